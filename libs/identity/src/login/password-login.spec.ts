import { describe, expect, it } from '@jest/globals';
import type { UserSummary } from '@latchkey/contracts';
import { PasswordHasher } from '../users/password-hasher.js';
import { DEFAULT_LOGIN_THROTTLING, LoginThrottle, type ThrottleStore } from './login-throttle.js';
import { PasswordLogin } from './password-login.js';

class CountingHasher extends PasswordHasher {
  readonly verified: string[] = [];
  override verify(phc: string, password: string): Promise<boolean> {
    this.verified.push(phc);
    return super.verify(phc, password);
  }
}

const openStore: ThrottleStore = {
  update: async (_tenant, keys, decide) => decide(keys.map(() => null)).result,
};

async function setup() {
  const hasher = new CountingHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const user = (username: string, status: UserSummary['status']): UserSummary => ({ id: '00000000-0000-4000-8000-000000000001', tenant: 't', username, status, roles: [] });
  const rows = new Map([
    ['adam', { user: user('adam', 'active'), passwordHash: await hasher.hash('adam-password') }],
    ['dora', { user: user('dora', 'disabled'), passwordHash: await hasher.hash('dora-password') }],
    ['nopw', { user: user('nopw', 'active'), passwordHash: '!' }],
  ]);
  const login = new PasswordLogin(
    { findWithPasswordHash: async (_tenant, username) => rows.get(username) ?? null },
    hasher,
    new LoginThrottle(openStore, DEFAULT_LOGIN_THROTTLING, () => 1_700_000_000_000),
    { isEnrolled: async () => false },
    () => 1_700_000_000_000,
  );
  await login.warmUp();
  hasher.verified.length = 0;
  const attempt = (username: string, password: string) => login.authenticate({ tenant: 't', username, password, clientIp: '192.0.2.1' });
  return { hasher, attempt };
}

describe('PasswordLogin', () => {
  it('signs in with the right password', async () => {
    const { attempt } = await setup();
    await expect(attempt('adam', 'adam-password')).resolves.toMatchObject({ user: { username: 'adam' }, amr: ['pwd'], acr: 'urn:latchkey:loa:1', authTime: 1_700_000_000, otpRequired: false });
  });

  it.each([
    ['a wrong password', 'adam', 'wrong'],
    ['an unknown user', 'ghost', 'adam-password'],
    ['a disabled user with the right password', 'dora', 'dora-password'],
    ['a user without a password', 'nopw', 'anything'],
  ])('case=should fail with the one error for %s, after exactly one argon2 verification', async (_case, username, password) => {
    const { attempt, hasher } = await setup();
    await expect(attempt(username, password)).rejects.toMatchObject({ code: 'invalid_grant', message: 'authentication failed' });
    expect(hasher.verified).toHaveLength(1);
    expect(hasher.verified[0]).toMatch(/^\$argon2id\$/);
  });
});
