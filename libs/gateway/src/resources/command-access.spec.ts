import { describe, expect, it } from '@jest/globals';
import type { AccessTokenClaims } from '@latchkey/contracts';
import type { Principal } from '../auth/principal.js';
import { commandAccess } from './command-access.js';

// Who may command which device is the policy's (owners, controllers, operators, admins; a delegated
// token for the person it acts for, narrowed by the grant). What the route still checks itself is the
// delegated token's binding to the device: its audience.

const T = 1_900_000_000;
const LOCK = { serial: 'lock-1' };

function principal(overrides: Partial<AccessTokenClaims>, onBehalfOf: string | null): Pick<Principal, 'claims' | 'onBehalfOf'> {
  return { claims: { iss: 'i', sub: 'user-adam', aud: 'demo-app', client_id: 'demo-app', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides }, onBehalfOf };
}

/** Bianca acting for Adam with a token whose audience is `aud`. */
const biancaForAdam = (aud: AccessTokenClaims['aud']) => principal({ aud, act: { sub: 'user-bianca' }, gid: 'g' }, 'user-adam');

describe('commandAccess', () => {
  it('leaves a direct token to the policy (no audience binding to check)', () => {
    expect(commandAccess(principal({}, null), LOCK)).toEqual({ allowed: true });
    expect(commandAccess(principal({ sub: 'user-bianca', aud: 'anything' }, null), LOCK)).toEqual({ allowed: true });
  });

  it('lets a delegated token for this device through: its aud names it (string or list)', () => {
    expect(commandAccess(biancaForAdam('device:lock-1'), LOCK)).toEqual({ allowed: true });
    expect(commandAccess(biancaForAdam(['https://id.example/t/demo', 'device:lock-1']), LOCK)).toEqual({ allowed: true });
  });

  it('refuses a delegated token for another device, or for the account (`*`: its aud is the issuer)', () => {
    expect(commandAccess(biancaForAdam('device:lock-2'), LOCK)).toEqual({ allowed: false, reason: expect.stringMatching(/not for this device/) });
    expect(commandAccess(biancaForAdam('https://id.example/t/demo'), LOCK).allowed).toBe(false);
    // A serial that merely starts like the shared one is another device.
    expect(commandAccess(biancaForAdam('device:lock-1'), { serial: 'lock-10' }).allowed).toBe(false);
  });
});
