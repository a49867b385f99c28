import { describe, expect, it } from '@jest/globals';
import type { AccessTokenClaims } from '@latchkey/contracts';
import type { Principal } from '../auth/principal.js';
import { commandAccess } from './command-access.js';

const T = 1_900_000_000;
const LOCK = { ownerId: 'user-adam', serial: 'lock-1' };

function principal(overrides: Partial<AccessTokenClaims>, who: Pick<Principal, 'actor' | 'onBehalfOf'>): Pick<Principal, 'claims' | 'actor' | 'onBehalfOf'> {
  return { claims: { iss: 'i', sub: 'user-adam', aud: 'demo-app', client_id: 'demo-app', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides }, ...who };
}

const adam = principal({}, { actor: { type: 'user', id: 'user-adam' }, onBehalfOf: null });
const bianca = principal({ sub: 'user-bianca' }, { actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: null });
/** Bianca acting for Adam with a token whose audience is `aud`. */
const biancaForAdam = (aud: AccessTokenClaims['aud']) => principal({ aud, act: { sub: 'user-bianca' }, gid: 'g' }, { actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-adam' });

describe('commandAccess', () => {
  it('lets the owner command their device with their own token', () => {
    expect(commandAccess(adam, LOCK)).toEqual({ allowed: true });
  });

  it('refuses another person’s own token, an app acting for itself and a device', () => {
    expect(commandAccess(bianca, LOCK).allowed).toBe(false);
    expect(commandAccess(principal({ sub: 'user-adam', client_id: 'user-adam' }, { actor: { type: 'client', id: 'user-adam' }, onBehalfOf: null }), LOCK).allowed).toBe(false);
    expect(commandAccess(principal({ sub: 'user-adam' }, { actor: { type: 'device', id: 'user-adam' }, onBehalfOf: null }), LOCK).allowed).toBe(false);
  });

  it('refuses everyone for a device without an owner', () => {
    expect(commandAccess(adam, { ownerId: null, serial: 'lock-1' }).allowed).toBe(false);
  });

  it('lets a delegated token for this device through: sub owns it and aud names it (string or list)', () => {
    expect(commandAccess(biancaForAdam('device:lock-1'), LOCK)).toEqual({ allowed: true });
    expect(commandAccess(biancaForAdam(['https://id.example/t/demo', 'device:lock-1']), LOCK)).toEqual({ allowed: true });
  });

  it('refuses a delegated token for another device, or for the account (`*`: its aud is the issuer)', () => {
    expect(commandAccess(biancaForAdam('device:lock-2'), LOCK)).toEqual({ allowed: false, reason: expect.stringMatching(/not for this device/) });
    expect(commandAccess(biancaForAdam('https://id.example/t/demo'), LOCK).allowed).toBe(false);
    // A serial that merely starts like the shared one is another device.
    expect(commandAccess(biancaForAdam('device:lock-1'), { ownerId: 'user-adam', serial: 'lock-10' }).allowed).toBe(false);
  });

  it('refuses a delegated token acting for someone who does not own the device', () => {
    const forCarl = principal({ sub: 'user-carl', aud: 'device:lock-1', act: { sub: 'user-bianca' }, gid: 'g' }, { actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-carl' });
    expect(commandAccess(forCarl, LOCK)).toEqual({ allowed: false, reason: expect.stringMatching(/does not own/) });
  });

  it('does not let the acting party’s own ownership count for a delegated token', () => {
    // Bianca owns lock-9 herself; a token acting for Adam is not her own token.
    const token = principal({ aud: 'device:lock-9', act: { sub: 'user-bianca' }, gid: 'g' }, { actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-adam' });
    expect(commandAccess(token, { ownerId: 'user-bianca', serial: 'lock-9' }).allowed).toBe(false);
  });
});
