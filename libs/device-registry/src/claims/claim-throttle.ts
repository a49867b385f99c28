import { isIPv4 } from 'node:net';
import type { Clock } from '../clock.js';
import type { DeviceDatabase } from '../device-registry.prisma.js';

export interface ClaimThrottleLimit {
  /** Claims that may fail within the window; beyond that every claim fails until the window ends. */
  maxFailures: number;
  windowSeconds: number;
}

export interface ClaimThrottling {
  perUser: ClaimThrottleLimit;
  perIp: ClaimThrottleLimit;
}

/** 5 failed claims per user, 20 per client address (an IPv6 /64), in 15 minutes. */
export const DEFAULT_CLAIM_THROTTLING: ClaimThrottling = {
  perUser: { maxFailures: 5, windowSeconds: 900 },
  perIp: { maxFailures: 20, windowSeconds: 900 },
};

/**
 * Brute-force protection of claim codes, per (tenant, user) and per (tenant, client address), in
 * `devices.claim_failure` so that every replica counts together. Each claim is counted BEFORE its code
 * is looked at, in one statement for both keys, so parallel guesses cannot all pass a check none of
 * them has yet counted; a successful claim gives its count back. The window is fixed: once a key is
 * over its limit, every claim fails until the window that started with its first failure ends.
 */
export class ClaimThrottle {
  constructor(
    private readonly db: DeviceDatabase,
    private readonly limits: ClaimThrottling,
    private readonly clock: Clock,
  ) {}

  /** Counts one attempt; false when the user or the address is over its limit (the code must then not be tried). */
  async admit(tenant: string, userId: string, clientIp: string): Promise<boolean> {
    const now = new Date(this.clock());
    const userFloor = new Date(now.getTime() - this.limits.perUser.windowSeconds * 1000);
    const ipFloor = new Date(now.getTime() - this.limits.perIp.windowSeconds * 1000);
    // Rows are locked in VALUES order (user, then address) by every attempt: no two attempts deadlock.
    const rows = await this.db.prisma.$queryRaw<{ kind: string; failures: number }[]>`
      INSERT INTO "devices"."claim_failure" AS f (tenant, kind, "key", failures, window_started_at)
      VALUES (${tenant}, 'user', ${userId}, 1, ${now}), (${tenant}, 'ip', ${addressKey(clientIp)}, 1, ${now})
      ON CONFLICT (tenant, kind, "key") DO UPDATE SET
        failures = CASE WHEN f.window_started_at <= (CASE f.kind WHEN 'user' THEN ${userFloor}::timestamptz ELSE ${ipFloor}::timestamptz END) THEN 1 ELSE f.failures + 1 END,
        window_started_at = CASE WHEN f.window_started_at <= (CASE f.kind WHEN 'user' THEN ${userFloor}::timestamptz ELSE ${ipFloor}::timestamptz END) THEN ${now}::timestamptz ELSE f.window_started_at END
      RETURNING kind, failures`;
    return rows.every((row) => row.failures <= (row.kind === 'user' ? this.limits.perUser : this.limits.perIp).maxFailures);
  }

  /** The admitted attempt succeeded: it does not count as a failure. One row per statement (no lock-order cycles with `admit`). */
  async succeeded(tenant: string, userId: string, clientIp: string): Promise<void> {
    for (const [kind, key] of [['user', userId], ['ip', addressKey(clientIp)]] as const) {
      await this.db.prisma.claimFailure.updateMany({ where: { tenant, kind, key, failures: { gt: 0 } }, data: { failures: { decrement: 1 } } });
    }
  }

  /** Counters whose window has ended count nothing any more. */
  async sweep(tenant: string): Promise<number> {
    const longest = Math.max(this.limits.perUser.windowSeconds, this.limits.perIp.windowSeconds) * 1000;
    const { count } = await this.db.prisma.claimFailure.deleteMany({ where: { tenant, windowStartedAt: { lt: new Date(this.clock() - longest) } } });
    return count;
  }
}

/**
 * The address a counter is kept for: IPv4 as it is (also when IPv4-mapped), IPv6 by its /64 prefix
 * (one subscriber usually holds a whole /64).
 */
export function addressKey(ip: string): string {
  const address = ip.trim().toLowerCase().split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !address.includes(':')) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => (parseInt(group, 16) || 0).toString(16))
    .join(':')}::/64`;
}
