import { describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS, revocationCutoff } from './device-revocation-feed.js';

const at = (iso: string) => new Date(iso);
const seconds = (date: Date) => date.getTime() / 1000;
/** The revocation rule: a token is revoked when its iat is at or before the cut-off. */
const revokes = (cutoff: Date, iat: number) => iat <= seconds(cutoff);

describe('device revocation cut-off (docs/adr/0017)', () => {
  const second = seconds(at('2026-11-24T10:00:00Z'));
  const change = at('2026-11-24T10:00:00.300Z');
  const received = at('2026-11-24T10:00:00.450Z');

  it('revokes every token dated in the change\'s second or before, never fewer', () => {
    const cutoff = revocationCutoff(change, received, 100);
    expect(cutoff.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(revokes(cutoff, second - 3600)).toBe(true);
    // Dated in the change's second — before it (`floor(at) - 1` would spare that one) or, revoking too
    // much, after it (a token the device got with its other key): revoked.
    expect(revokes(cutoff, second)).toBe(true);
    // From the next second on, new tokens live.
    expect(revokes(cutoff, second + 1)).toBe(false);
  });

  it('moves to the next second when the allowance crosses it', () => {
    const late = at('2026-11-24T10:00:00.950Z');
    expect(revocationCutoff(late, at('2026-11-24T10:00:01.010Z'), 100).toISOString()).toBe('2026-11-24T10:00:01.000Z');
    expect(revocationCutoff(late, at('2026-11-24T10:00:01.010Z'), 0).toISOString()).toBe('2026-11-24T10:00:00.000Z');
    // A token dated 1.1 s after the change (after the allowance) is never revoked.
    for (const ms of [0, 300, 899, 900, 950, 999]) {
      const event = new Date(Date.parse('2026-11-24T10:00:00Z') + ms);
      const cutoff = revocationCutoff(event, new Date(event.getTime() + 50), 100);
      expect(revokes(cutoff, Math.floor((event.getTime() + 1100) / 1000))).toBe(false);
      expect(revokes(cutoff, Math.floor((event.getTime() + 100) / 1000))).toBe(true);
    }
  });

  it('is the same for the same event delivered again later (idempotent)', () => {
    expect(revocationCutoff(change, at('2026-11-24T11:30:00Z'), 100)).toEqual(revocationCutoff(change, received, 100));
  });

  it('does not let a registry clock running ahead revoke a device\'s future tokens', () => {
    const ahead = at('2026-11-24T10:10:00Z');
    expect(revocationCutoff(ahead, received, 100)).toEqual(revocationCutoff(received, received, 100));
  });

  it('is kept as long as the longest access token the tenants file can configure', () => {
    const file = (ttl: number) => `
tenants:
  - id: demo
    clients:
      - { clientId: svc, secret: s, grantTypes: [client_credentials], accessTokenTtlSeconds: ${ttl} }`;
    expect(() => parseTenants(file(LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS))).not.toThrow();
    expect(() => parseTenants(file(LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS + 1))).toThrow(/accessTokenTtlSeconds/);
    expect(() => parseTenants(`tenants: [{ id: demo, accessTokenTtlSeconds: ${LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS + 1} }]`)).toThrow(/accessTokenTtlSeconds/);
    expect(() => parseTenants(`tenants: [{ id: demo, deviceTypes: [{ type: lock, accessTokenTtlSeconds: ${LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS + 1} }] }]`)).toThrow(/accessTokenTtlSeconds/);
  });
});
