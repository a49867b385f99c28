import { describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { ContractError, DecideBatch, type DecisionResult, type DecisionSubject, type ParsedRequestOf, type RequestContract, type RequestOf } from '@latchkey/contracts';
import type { OAuthClient } from '../clients/oauth-client.js';
import { cacheKeyOf, clientSubject, type PolicyDecisionClient, ScopeDecisionCache, ScopeDecisions } from './scope-decisions.js';

type Batch = ParsedRequestOf<typeof DecideBatch>;

/** A decision point that allows what `allow` says, with `ttlSeconds`, and records every batch. */
function fakePolicy(allow: (scope: string, batch: Batch['decisions'][number]) => boolean, ttlSeconds?: number) {
  const batches: Batch[] = [];
  let failure: unknown;
  const client: PolicyDecisionClient = {
    send: (async <C extends RequestContract>(contract: C, request: RequestOf<C>) => {
      expect(contract).toBe(DecideBatch);
      if (failure) throw failure;
      const batch = DecideBatch.request.parse(request);
      batches.push(batch);
      const results: DecisionResult[] = batch.decisions.map((decision) => {
        const allowed = allow(decision.resource.id, decision);
        return { allow: allowed, reasons: [], policyVersion: 'b0.d0@test', ...(allowed && ttlSeconds ? { ttlSeconds } : {}) };
      });
      return { results };
    }) as PolicyDecisionClient['send'],
  };
  return {
    client,
    batches,
    fail(error: unknown) {
      failure = error;
    },
  };
}

function setup(allow: (scope: string) => boolean, ttlSeconds?: number, cacheEntries = 100) {
  let now = 1_000_000;
  const clock = () => now;
  const policy = fakePolicy(allow, ttlSeconds);
  const decisions = new ScopeDecisions(policy.client, new ScopeDecisionCache(cacheEntries, clock), clock);
  return {
    policy,
    decisions,
    advance(ms: number) {
      now += ms;
    },
  };
}

const svc: DecisionSubject = { type: 'client', id: 'svc', roles: ['admin'] };

describe('ScopeDecisions', () => {
  it('asks once for every candidate scope, keeps the allowed ones in order', async () => {
    const { policy, decisions } = setup((scope) => scope !== 'devices:write');
    await expect(decisions.allowed('demo', svc, ['devices:read', 'devices:write', 'lock:state'])).resolves.toEqual(['devices:read', 'lock:state']);
    expect(policy.batches).toHaveLength(1);
    expect(policy.batches[0]).toEqual({
      tenant: 'demo',
      decisions: ['devices:read', 'devices:write', 'lock:state'].map((scope) => ({
        subject: svc,
        action: { name: 'token.scope' },
        resource: { type: 'scope', id: scope },
        context: {},
      })),
    });
  });

  it('reuses an allow for its ttlSeconds, never a denial, and asks again once it expired', async () => {
    const { policy, decisions, advance } = setup((scope) => scope === 'a', 60);
    await expect(decisions.allowed('demo', svc, ['a', 'b'])).resolves.toEqual(['a']);
    await expect(decisions.allowed('demo', svc, ['a', 'b'])).resolves.toEqual(['a']);
    // The second request asked only for the denied scope.
    expect(policy.batches.map((batch) => batch.decisions.map((decision) => decision.resource.id))).toEqual([['a', 'b'], ['b']]);
    await expect(decisions.allowed('demo', svc, ['a'])).resolves.toEqual(['a']);
    expect(policy.batches).toHaveLength(2);
    advance(60_000);
    await expect(decisions.allowed('demo', svc, ['a'])).resolves.toEqual(['a']);
    expect(policy.batches).toHaveLength(3);
  });

  it('does not keep an allow without ttlSeconds (0: ask every time)', async () => {
    const { policy, decisions } = setup(() => true);
    await decisions.allowed('demo', svc, ['a']);
    await decisions.allowed('demo', svc, ['a']);
    expect(policy.batches).toHaveLength(2);
  });

  it('caps the reuse at maxCacheSeconds', async () => {
    let now = 0;
    const policy = fakePolicy(() => true, 86_400);
    const decisions = new ScopeDecisions(policy.client, new ScopeDecisionCache(10, () => now), () => now, { maxCacheSeconds: 5 });
    await decisions.allowed('demo', svc, ['a']);
    now += 4_999;
    await decisions.allowed('demo', svc, ['a']);
    expect(policy.batches).toHaveLength(1);
    now += 1;
    await decisions.allowed('demo', svc, ['a']);
    expect(policy.batches).toHaveLength(2);
  });

  it('keys by tenant, subject type, id, roles (in any order) and attributes', async () => {
    const { policy, decisions } = setup(() => true, 60);
    await decisions.allowed('demo', { type: 'client', id: 'svc', roles: ['admin', 'viewer'] }, ['a']);
    await decisions.allowed('demo', { type: 'client', id: 'svc', roles: ['viewer', 'admin'] }, ['a']);
    expect(policy.batches).toHaveLength(1);
    const others: [string, DecisionSubject][] = [
      ['other', { type: 'client', id: 'svc', roles: ['admin', 'viewer'] }],
      ['demo', { type: 'client', id: 'svc', roles: ['viewer'] }],
      ['demo', { type: 'client', id: 'svc' }],
      ['demo', { type: 'device', id: 'svc', roles: ['admin', 'viewer'] }],
      ['demo', { type: 'client', id: 'svc2', roles: ['admin', 'viewer'] }],
      ['demo', { type: 'device', id: 'd1', attributes: { deviceType: 'bike-lock' } }],
      ['demo', { type: 'device', id: 'd1', attributes: { deviceType: 'sensor' } }],
    ];
    for (const [tenant, subject] of others) {
      const before = policy.batches.length;
      await decisions.allowed(tenant, subject, ['a']);
      expect(policy.batches.length).toBe(before + 1);
    }
  });

  it('never reuses a decision about a delegated subject or one with context', async () => {
    const { policy, decisions } = setup(() => true, 60);
    const delegated: DecisionSubject = { type: 'user', id: 'adam', act: { sub: 'bianca' }, gid: 'g1' };
    await decisions.allowed('demo', delegated, ['lock:unlock']);
    await decisions.allowed('demo', delegated, ['lock:unlock']);
    await decisions.allowed('demo', { type: 'user', id: 'adam' }, ['lock:unlock'], { attributes: { x: 1 } });
    await decisions.allowed('demo', { type: 'user', id: 'adam' }, ['lock:unlock'], { attributes: { x: 1 } });
    expect(policy.batches).toHaveLength(4);
    expect(cacheKeyOf('demo', { subject: delegated, scopes: [] })).toBeNull();
    expect(cacheKeyOf('demo', { subject: { type: 'user', id: 'adam' }, scopes: [], context: {} })).not.toBeNull();
  });

  it('answers several subjects in one round trip, and splits more than 100 decisions into batches', async () => {
    const { policy, decisions } = setup((scope) => !scope.endsWith('7'));
    const many = Array.from({ length: 130 }, (_, i) => `s:${i}`);
    const answers = await decisions.decide('demo', [
      { subject: svc, scopes: ['s:1', 's:7'] },
      { subject: { type: 'device', id: 'd1', attributes: { deviceType: 'sensor' } }, scopes: ['s:7'] },
      { subject: { type: 'client', id: 'big' }, scopes: many },
    ]);
    expect(answers[0]).toEqual(['s:1']);
    expect(answers[1]).toEqual([]);
    expect(answers[2]).toEqual(many.filter((scope) => !scope.endsWith('7')));
    expect(policy.batches.map((batch) => batch.decisions.length)).toEqual([100, 33]);
  });

  it('fails closed: an unreachable, failing or confused decision point is unavailable, and nothing is kept', async () => {
    for (const failure of [new ContractError('unavailable', 'no timely reply'), new ContractError('tenant_not_found', 'unknown tenant'), new Error('boom')]) {
      const { policy, decisions } = setup(() => true, 60);
      policy.fail(failure);
      await expect(decisions.allowed('demo', svc, ['a'])).rejects.toMatchObject({ code: 'unavailable' });
      expect(decisions.cache.size).toBe(0);
    }
    const short: PolicyDecisionClient = { send: (async () => ({ results: [] })) as PolicyDecisionClient['send'] };
    const decisions = new ScopeDecisions(short, new ScopeDecisionCache(10, Date.now), Date.now);
    await expect(decisions.allowed('demo', svc, ['a'])).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('asks nothing for no scope', async () => {
    const { policy, decisions } = setup(() => true);
    await expect(decisions.allowed('demo', svc, [])).resolves.toEqual([]);
    expect(policy.batches).toHaveLength(0);
  });
});

describe('ScopeDecisionCache', () => {
  it('is bounded and drops the least recently used first', () => {
    const cache = new ScopeDecisionCache(3, () => 0);
    for (const key of ['a', 'b', 'c']) cache.keep('demo', key, 60, 0);
    expect(cache.allows('a')).toBe(true);
    cache.keep('demo', 'd', 60, 0);
    expect(cache.size).toBe(3);
    expect(cache.allows('b')).toBe(false);
    expect(['a', 'c', 'd'].map((key) => cache.allows(key))).toEqual([true, true, true]);
  });

  it('clears one tenant on a policy activation, and refuses answers to questions asked before it', () => {
    const cache = new ScopeDecisionCache(10, () => 0);
    cache.keep('demo', 'demo-a', 60, 0);
    cache.keep('other', 'other-a', 60, 0);
    const askedBefore = cache.generation('demo');
    cache.clearTenant('demo');
    expect(cache.allows('demo-a')).toBe(false);
    expect(cache.allows('other-a')).toBe(true);
    cache.keep('demo', 'demo-b', 60, askedBefore);
    expect(cache.allows('demo-b')).toBe(false);
    cache.keep('demo', 'demo-b', 60, cache.generation('demo'));
    expect(cache.allows('demo-b')).toBe(true);
  });

  it('keeps nothing with 0 entries', () => {
    const cache = new ScopeDecisionCache(0, () => 0);
    cache.keep('demo', 'a', 60, 0);
    expect(cache.allows('a')).toBe(false);
  });
});

describe('clientSubject', () => {
  const tenants = parseTenants(`
tenants:
  - id: demo
    clients:
      - { clientId: svc, secret: s, grantTypes: [client_credentials], roles: [admin] }
      - { clientId: plain, secret: s, grantTypes: [client_credentials] }
`);
  const tenant = tenants.tenants[0]!;
  const client = (clientId: string, device?: OAuthClient['device']): OAuthClient => ({
    tenant: 'demo',
    clientId,
    displayName: null,
    secretHash: null,
    authMethods: ['client_secret_basic'],
    grantTypes: ['client_credentials'],
    scopes: [],
    redirectUris: [],
    accessTokenTtlSeconds: null,
    idTokenSignedResponseAlg: 'ES256',
    refreshTokenAbsoluteLifetimeSeconds: null,
    refreshTokenIdleLifetimeSeconds: null,
    jwks: null,
    ...(device ? { device } : {}),
  });

  it('is a registered client with the tenants file\'s roles, or a device by its type', () => {
    expect(clientSubject(tenant, client('svc'))).toEqual({ type: 'client', id: 'svc', roles: ['admin'] });
    expect(clientSubject(tenant, client('plain'))).toEqual({ type: 'client', id: 'plain' });
    expect(clientSubject(tenant, client('unknown'))).toEqual({ type: 'client', id: 'unknown' });
    const id = '3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a090';
    expect(clientSubject(tenant, client(id, { id, type: 'bike-lock', ownerId: null, authenticatedAt: 0 }))).toEqual({ type: 'device', id, attributes: { deviceType: 'bike-lock' } });
  });
});
