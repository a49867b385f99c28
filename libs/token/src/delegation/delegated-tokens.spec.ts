import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import { delegationRefusal } from '../grants/token-exchange.grant.js';
import { grantRevocationKeptUntil } from '../tokens/grant-revocation-feed.js';
import { actorClaim, delegatedAudience, delegatedLifetimeSeconds, delegatedScopes, delegationKeys } from './delegated-tokens.js';

const user = (id: string) => ({ type: 'user' as const, id });
const app = (id: string) => ({ type: 'client' as const, id });

describe('act (RFC 8693 §4.1): the current actor outermost, the first delegatee innermost', () => {
  it('names the delegatee of a grant by the delegator', () => {
    expect(actorClaim([user('bianca')], user('bianca'))).toEqual({ sub: 'bianca' });
  });

  it('nests a chain of re-delegations: Adam → Bianca → Carl, Carl acting', () => {
    expect(actorClaim([user('bianca'), user('carl')], user('carl'))).toEqual({ sub: 'carl', act: { sub: 'bianca' } });
    expect(actorClaim([user('bianca'), user('carl'), app('lock-app')], app('lock-app'))).toEqual({ sub: 'lock-app', act: { sub: 'carl', act: { sub: 'bianca' } } });
  });

  it('always names the party asking outermost, even when the chain leaves it out', () => {
    expect(actorClaim([], user('bianca'))).toEqual({ sub: 'bianca' });
    expect(actorClaim([user('bianca')], user('carl'))).toEqual({ sub: 'carl', act: { sub: 'bianca' } });
    // Same id, other kind of party: not the same actor.
    expect(actorClaim([user('x')], app('x'))).toEqual({ sub: 'x', act: { sub: 'x' } });
  });
});

describe('scopes of a delegated token: the grant\'s usable scopes ∩ the client\'s registered scopes', () => {
  it('keeps what both allow, in the grant\'s order, without duplicates', () => {
    expect(delegatedScopes(['lock:unlock', 'lock:configure'], ['openid', 'lock:configure', 'lock:unlock'])).toEqual(['lock:unlock', 'lock:configure']);
    expect(delegatedScopes(['lock:unlock', 'lock:unlock'], ['lock:unlock'])).toEqual(['lock:unlock']);
  });

  it('is empty when the client may carry none of them (then no token)', () => {
    expect(delegatedScopes(['lock:unlock'], ['openid', 'profile'])).toEqual([]);
    expect(delegatedScopes([], ['lock:unlock'])).toEqual([]);
  });
});

describe('lifetime of a delegated token: never beyond its grant', () => {
  const now = Date.parse('2026-11-24T10:00:00.400Z');

  it('is the tenant\'s delegated-token lifetime when the grant lasts longer', () => {
    expect(delegatedLifetimeSeconds(300, new Date('2026-12-24T10:00:00Z'), now)).toBe(300);
  });

  it('ends at the grant\'s end at the latest: floor(now) + lifetime ≤ the grant\'s expiry', () => {
    for (const expiresAt of ['2026-11-24T10:01:00.000Z', '2026-11-24T10:01:00.399Z', '2026-11-24T10:01:00.401Z', '2026-11-24T10:00:01.400Z']) {
      const lifetime = delegatedLifetimeSeconds(300, new Date(expiresAt), now);
      expect(lifetime).toBeGreaterThanOrEqual(1);
      expect((Math.floor(now / 1000) + lifetime) * 1000).toBeLessThanOrEqual(Date.parse(expiresAt));
    }
    expect(delegatedLifetimeSeconds(300, new Date('2026-11-24T10:01:00.000Z'), now)).toBe(59);
  });

  it('is 0 (no token) for a grant ending within a second, or already ended', () => {
    expect(delegatedLifetimeSeconds(300, new Date('2026-11-24T10:00:01.399Z'), now)).toBe(0);
    expect(delegatedLifetimeSeconds(300, new Date('2026-11-24T09:00:00Z'), now)).toBe(0);
  });
});

describe('audience and the delegations claim\'s keys', () => {
  it('is the shared device, or the issuer for the account (*)', () => {
    expect(delegatedAudience('device:lock-1', 'https://auth.example.test/t/demo')).toBe('device:lock-1');
    expect(delegatedAudience('*', 'https://auth.example.test/t/demo')).toBe('https://auth.example.test/t/demo');
  });

  it('keys grants by the delegator\'s username, then #2, #3 by grant age', () => {
    const keys = delegationKeys([
      { id: 'c', delegatorName: 'adam', createdAt: '2026-11-03T00:00:00Z' },
      { id: 'a', delegatorName: 'adam', createdAt: '2026-11-01T00:00:00Z' },
      { id: 'x', delegatorName: 'dora', createdAt: '2026-11-02T00:00:00Z' },
      { id: 'b', delegatorName: 'adam', createdAt: '2026-11-02T00:00:00+00:00' },
    ]);
    expect(Object.fromEntries(keys)).toEqual({ a: 'adam', b: 'adam#2', c: 'adam#3', x: 'dora' });
    // Oldest first; grants of the same instant in id order.
    expect([...keys.values()]).toEqual(['adam', 'adam#2', 'dora', 'adam#3']);
  });

  it('never gives two grants the same key, even for a username ending in #2', () => {
    const keys = delegationKeys([
      { id: '1', delegatorName: 'adam#2', createdAt: '2026-11-01T00:00:00Z' },
      { id: '2', delegatorName: 'adam', createdAt: '2026-11-02T00:00:00Z' },
      { id: '3', delegatorName: 'adam', createdAt: '2026-11-03T00:00:00Z' },
    ]);
    expect(Object.fromEntries(keys)).toEqual({ 1: 'adam#2', 2: 'adam', 3: 'adam#3' });
  });
});

describe('the delegation service\'s refusals as token-exchange errors (RFC 8693 §2.2.2)', () => {
  const refusal = (code: ContractError['code'], resourceNamed = true) => delegationRefusal(new ContractError(code, 'outside the time window'), resourceNamed);

  it('maps no usable grant to invalid_target when a resource was named, else invalid_grant', () => {
    expect(refusal('not_found')).toMatchObject({ code: 'invalid_target' });
    expect(refusal('not_found', false)).toMatchObject({ code: 'invalid_grant' });
  });

  it('maps refusing constraints to invalid_grant with the reason; invalid_scope and unavailable pass', () => {
    expect(refusal('forbidden')).toMatchObject({ code: 'invalid_grant', message: expect.stringContaining('outside the time window') });
    expect(refusal('invalid_scope')).toMatchObject({ code: 'invalid_scope' });
    expect(refusal('unavailable')).toMatchObject({ code: 'unavailable' });
    expect(refusal('validation_failed')).toMatchObject({ code: 'invalid_request' });
  });
});

describe('how long a grant revocation is kept', () => {
  const received = new Date('2026-11-24T10:00:00Z');

  it('until the grant would have ended (no token of it outlives it), plus a second', () => {
    expect(grantRevocationKeptUntil(new Date('2026-11-24T12:00:00Z'), received).toISOString()).toBe('2026-11-24T12:00:01.000Z');
  });

  it('at most a day (the longest configurable lifetime) after the event, at least a second', () => {
    expect(grantRevocationKeptUntil(new Date('2027-11-24T10:00:00Z'), received).toISOString()).toBe('2026-11-25T10:00:01.000Z');
    expect(grantRevocationKeptUntil(new Date('2026-11-24T09:00:00Z'), received).toISOString()).toBe('2026-11-24T10:00:01.000Z');
  });
});
