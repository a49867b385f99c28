import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';

export interface UserCodeThrottleOptions {
  /** Failed lookups from one IP within the window that lock it out (default 10). */
  maxFailures?: number;
  /** Seconds (default 900). */
  windowSeconds?: number;
  /** Seconds an IP stays locked out (default 900). */
  lockoutSeconds?: number;
}

/**
 * RFC 8628 §5.1: user codes are short, so guessing them is throttled. Failed lookups are counted per
 * tenant and client IP in PostgreSQL (shared by every replica) in a fixed window; at `maxFailures` the
 * IP is locked out. A successful lookup does not reset the count: anyone can mint valid user codes
 * with a public device client and would otherwise interleave them to keep guessing.
 */
export class UserCodeThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;

  constructor(
    private readonly db: TokenDatabase,
    private readonly clock: Clock,
    options: UserCodeThrottleOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = (options.windowSeconds ?? 900) * 1000;
    this.lockoutMs = (options.lockoutSeconds ?? 900) * 1000;
  }

  async isLockedOut(tenant: string, clientIp: string): Promise<boolean> {
    const row = await this.db.prisma.userCodeFailure.findUnique({ where: { tenant_clientIp: { tenant, clientIp } }, select: { lockedUntil: true } });
    return row?.lockedUntil != null && row.lockedUntil.getTime() > this.clock();
  }

  /** Counts one failed lookup; one statement, so concurrent failures from one IP all count. */
  async recordFailure(tenant: string, clientIp: string): Promise<void> {
    const now = new Date(this.clock());
    const windowFloor = new Date(now.getTime() - this.windowMs);
    const lockedUntil = new Date(now.getTime() + this.lockoutMs);
    const max = this.maxFailures;
    await this.db.prisma.$executeRaw`
      INSERT INTO "token"."user_code_failure" AS f (tenant, client_ip, failures, window_started_at, locked_until)
      VALUES (${tenant}, ${clientIp}, 1, ${now}::timestamptz, CASE WHEN 1 >= ${max}::int THEN ${lockedUntil}::timestamptz END)
      ON CONFLICT (tenant, client_ip) DO UPDATE SET
        failures = CASE WHEN f.window_started_at <= ${windowFloor}::timestamptz THEN 1 ELSE f.failures + 1 END,
        window_started_at = CASE WHEN f.window_started_at <= ${windowFloor}::timestamptz THEN ${now}::timestamptz ELSE f.window_started_at END,
        locked_until = CASE
          WHEN (CASE WHEN f.window_started_at <= ${windowFloor}::timestamptz THEN 1 ELSE f.failures + 1 END) >= ${max}::int THEN ${lockedUntil}::timestamptz
          ELSE f.locked_until END`;
  }

  /** Counters that neither lock nor count any more. */
  async sweep(): Promise<number> {
    const now = this.clock();
    const { count } = await this.db.prisma.userCodeFailure.deleteMany({
      where: { windowStartedAt: { lt: new Date(now - this.windowMs) }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date(now) } }] },
    });
    return count;
  }
}
