import { describe, expect, it } from '@jest/globals';
import { addressKey, LoginThrottle, type LoginThrottling, type ThrottleStore } from './login-throttle.js';
import type { ThrottleKey, ThrottleState } from './throttle-rules.js';

/** The store's contract in memory: the decision runs atomically on the keys' current states. */
class MemoryThrottleStore implements ThrottleStore {
  readonly rows = new Map<string, ThrottleState>();

  async update<R>(tenant: string, keys: ThrottleKey[], decide: (states: (ThrottleState | null)[]) => { states: (ThrottleState | null)[]; result: R }): Promise<R> {
    const ids = keys.map((key) => `${tenant}/${key.kind}/${key.key}`);
    const { states, result } = decide(ids.map((id) => this.rows.get(id) ?? null));
    ids.forEach((id, i) => (states[i] ? this.rows.set(id, states[i]) : this.rows.delete(id)));
    return result;
  }
}

const POLICIES: LoginThrottling = {
  account: { maxFailures: 3, windowSeconds: 600, lockoutSeconds: 300 },
  otp: { maxFailures: 3, windowSeconds: 600, lockoutSeconds: 300 },
  ip: { maxFailures: 10, windowSeconds: 600, lockoutSeconds: 900 },
};

function setup() {
  let now = 1_700_000_000_000;
  const store = new MemoryThrottleStore();
  const throttle = new LoginThrottle(store, POLICIES, () => now);
  const keys = (user: string, ip = '192.0.2.1'): ThrottleKey[] => [
    { kind: 'ip', key: ip },
    { kind: 'account', key: user },
  ];
  const tryLogin = async (user: string, ok: boolean, ip?: string): Promise<'refused' | 'ok' | 'failed'> => {
    const attempt = await throttle.begin('t', keys(user, ip));
    if (!attempt) return 'refused';
    await (ok ? attempt.succeed() : attempt.fail());
    return ok ? 'ok' : 'failed';
  };
  return { store, tryLogin, throttle, keys, advance: (ms: number) => (now += ms) };
}

describe('LoginThrottle', () => {
  it('case=should refuse but not lock when correct sign-ins in flight reach the limit', async () => {
    const { throttle, keys, tryLogin } = setup();
    const inFlight = await Promise.all([1, 2, 3].map(() => throttle.begin('t', keys('adam'))));
    expect(inFlight.every((attempt) => attempt !== null)).toBe(true);
    // A fourth attempt while three are unsettled is refused...
    expect(await throttle.begin('t', keys('adam'))).toBeNull();
    // ...but when those three turn out correct, the account is not locked.
    for (const attempt of inFlight) await attempt!.succeed();
    expect(await tryLogin('adam', true)).toBe('ok');
  });

  it('case=should not lock an address whose many parallel sign-ins are all correct', async () => {
    const { throttle, keys, tryLogin } = setup();
    const inFlight = await Promise.all(Array.from({ length: 10 }, (_, i) => throttle.begin('t', keys(`user-${i}`))));
    expect(inFlight.every((attempt) => attempt !== null)).toBe(true);
    expect(await throttle.begin('t', keys('user-10'))).toBeNull();
    for (const attempt of inFlight) await attempt!.succeed();
    expect(await tryLogin('user-11', true)).toBe('ok');
  });

  it('locks an account after maxFailures failures, refusing even the right password, until the lockout expires', async () => {
    const { tryLogin, advance } = setup();
    for (let i = 0; i < 3; i++) expect(await tryLogin('adam', false)).toBe('failed');
    expect(await tryLogin('adam', true)).toBe('refused');
    advance(299_000);
    expect(await tryLogin('adam', true)).toBe('refused');
    advance(1_000);
    expect(await tryLogin('adam', true)).toBe('ok');
  });

  it('gives a fresh allowance after a lockout, and a success resets the account counter', async () => {
    const { tryLogin, advance } = setup();
    for (let i = 0; i < 3; i++) await tryLogin('adam', false);
    advance(300_000);
    expect(await tryLogin('adam', false)).toBe('failed');
    expect(await tryLogin('adam', false)).toBe('failed');
    expect(await tryLogin('adam', true)).toBe('ok');
    expect(await tryLogin('adam', false)).toBe('failed');
    expect(await tryLogin('adam', false)).toBe('failed');
    expect(await tryLogin('adam', true)).toBe('ok');
  });

  it('forgets failures older than the window', async () => {
    const { tryLogin, advance } = setup();
    await tryLogin('adam', false);
    await tryLogin('adam', false);
    advance(600_000);
    await tryLogin('adam', false);
    await tryLogin('adam', false);
    expect(await tryLogin('adam', true)).toBe('ok');
  });

  it('locks an address that fails across many usernames, without locking those accounts for other addresses', async () => {
    const { tryLogin, advance } = setup();
    for (let i = 0; i < 10; i++) expect(await tryLogin(`user${i}`, false)).toBe('failed');
    expect(await tryLogin('adam', true)).toBe('refused');
    expect(await tryLogin('user0', true, '198.51.100.7')).toBe('ok');
    advance(900_000);
    expect(await tryLogin('adam', true)).toBe('ok');
  });

  it('does not let a valid sign-in reset the address counter', async () => {
    const { tryLogin } = setup();
    for (let i = 0; i < 9; i++) await tryLogin(`victim${i}`, false);
    expect(await tryLogin('mallory', true)).toBe('ok');
    expect(await tryLogin('victim99', false)).toBe('failed');
    expect(await tryLogin('mallory', true)).toBe('refused');
  });

  it('counts nothing for a refused attempt', async () => {
    const { tryLogin, store } = setup();
    for (let i = 0; i < 3; i++) await tryLogin('adam', false);
    const ipBefore = store.rows.get('t/ip/192.0.2.1')!.failures;
    expect(await tryLogin('adam', false)).toBe('refused');
    expect(store.rows.get('t/ip/192.0.2.1')!.failures).toBe(ipBefore);
  });

  it('admits no more than maxFailures attempts that run in parallel', async () => {
    const { throttle, keys } = setup();
    const attempts = await Promise.all(Array.from({ length: 10 }, () => throttle.begin('t', keys('adam'))));
    expect(attempts.filter((a) => a !== null)).toHaveLength(3);
  });

  it('keeps tenants apart', async () => {
    const { throttle, keys, tryLogin } = setup();
    for (let i = 0; i < 3; i++) await tryLogin('adam', false);
    await expect(throttle.begin('t', keys('adam', '203.0.113.9'))).resolves.toBeNull();
    await expect(throttle.begin('other', keys('adam'))).resolves.not.toBeNull();
  });
});

describe('addressKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s → %s', (ip, key) => expect(addressKey(ip)).toBe(key));
});
