import type { Clock } from '../clock.js';
import { reserve, settleFailure, settleSuccess, type ThrottleKey, type ThrottleKind, type ThrottlePolicy, type ThrottleState } from './throttle-rules.js';

export type LoginThrottling = Record<ThrottleKind, ThrottlePolicy>;

/**
 * Defaults: 5 failures per account within 15 min lock it for 15 min; 5 wrong codes per user likewise;
 * 50 failures from one address (an IPv6 /64) within 15 min lock the address for 15 min (an office
 * behind one NAT should not lock itself out with a few typos).
 */
export const DEFAULT_LOGIN_THROTTLING: LoginThrottling = {
  account: { maxFailures: 5, windowSeconds: 900, lockoutSeconds: 900 },
  otp: { maxFailures: 5, windowSeconds: 900, lockoutSeconds: 900 },
  ip: { maxFailures: 50, windowSeconds: 900, lockoutSeconds: 900 },
};

/**
 * Where counters live. `update` reads the states of `keys` (null: no counter), lets `decide` compute
 * the new ones (null: delete) and writes them, atomically with respect to concurrent updates of the
 * same keys — across replicas.
 */
export interface ThrottleStore {
  update<R>(tenant: string, keys: ThrottleKey[], decide: (states: (ThrottleState | null)[]) => { states: (ThrottleState | null)[]; result: R }): Promise<R>;
}

/** One admitted attempt; it must be settled as a failure or a success. */
export interface ThrottledAttempt {
  fail(): Promise<void>;
  succeed(): Promise<void>;
}

/** Brute-force protection: per-account, per-user-code and per-address counters with lockouts that expire. */
export class LoginThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly policies: LoginThrottling,
    private readonly clock: Clock,
  ) {}

  /** Admits an attempt on all `keys`, or returns null when any of them is locked (nothing is counted then). */
  async begin(tenant: string, keys: ThrottleKey[]): Promise<ThrottledAttempt | null> {
    const now = this.clock();
    const allowed = await this.store.update(tenant, keys, (states) => {
      const reserved = states.map((state, i) => reserve(state, this.policy(keys[i]!), now));
      if (reserved.every((r) => r.allowed)) return { states: reserved.map((r) => r.state), result: true };
      // Refused: keep only what refusing changed (a lock set by an over-limit attempt), count nothing.
      return { states: states.map((state, i) => (reserved[i]!.allowed ? state : reserved[i]!.state)), result: false };
    });
    if (!allowed) return null;
    return {
      fail: () => this.store.update(tenant, keys, (states) => ({ states: states.map((s, i) => settleFailure(s, this.policy(keys[i]!), this.clock())), result: undefined })),
      succeed: () =>
        this.store.update(tenant, keys, (states) => ({ states: states.map((s, i) => settleSuccess(keys[i]!.kind, s, this.policy(keys[i]!), this.clock())), result: undefined })),
    };
  }

  private policy(key: ThrottleKey): ThrottlePolicy {
    return this.policies[key.kind];
  }

  /** How long a counter is worth keeping once its key is not locked. */
  get longestWindowMs(): number {
    return Math.max(...Object.values(this.policies).map((p) => p.windowSeconds)) * 1000;
  }
}

/** The key of per-address throttling: an IPv4 address, or the /64 prefix of an IPv6 address. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const groups = expandIpv6(ip);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  let address = ip.toLowerCase().split('%')[0]!;
  // An embedded IPv4 tail (e.g. 64:ff9b::1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    address = address.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const middle = tail !== undefined ? Array<string>(8 - left.length - right.length).fill('0') : [];
  return [...left, ...middle, ...right].map((group) => (parseInt(group, 16) || 0).toString(16));
}
