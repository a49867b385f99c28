import type { IdentityDatabase } from '../identity.prisma.js';
import type { ThrottleStore } from './login-throttle.js';
import type { ThrottleKey, ThrottleState } from './throttle-rules.js';

/**
 * Counters in `identity.login_throttle`, so that every replica sees the same ones. Each update is one
 * short transaction that locks the keys' rows (inserting empty ones first) (in a fixed order, so two updates cannot deadlock):
 * nothing slow (no password hash) runs while a row is locked.
 */
export class PrismaThrottleStore implements ThrottleStore {
  constructor(private readonly db: IdentityDatabase) {}

  async update<R>(tenant: string, keys: ThrottleKey[], decide: (states: (ThrottleState | null)[]) => { states: (ThrottleState | null)[]; result: R }): Promise<R> {
    const order = keys.map((key, index) => ({ key, index })).sort((a, b) => (a.key.kind + '\0' + a.key.key < b.key.kind + '\0' + b.key.key ? -1 : 1));
    return this.db.prisma.$transaction(async (tx) => {
      const states: (ThrottleState | null)[] = keys.map(() => null);
      for (const { key, index } of order) {
        // Make sure there is a row to lock: two first attempts must not both see "no counter".
        await tx.$executeRaw`
          INSERT INTO "identity"."login_throttle" (tenant, kind, "key", failures, window_started_at, updated_at)
          VALUES (${tenant}, ${key.kind}, ${key.key}, 0, to_timestamp(0), now()) ON CONFLICT DO NOTHING`;
        const rows = await tx.$queryRaw<{ failures: number; window_started_at: Date; locked_until: Date | null }[]>`
          SELECT failures, window_started_at, locked_until FROM "identity"."login_throttle"
          WHERE tenant = ${tenant} AND kind = ${key.kind} AND "key" = ${key.key} FOR UPDATE`;
        const row = rows[0];
        // A row without failures or lock (e.g. the placeholder above) is no counter at all.
        states[index] = row && (row.failures > 0 || row.locked_until !== null) ? { failures: row.failures, windowStartedAt: row.window_started_at.getTime(), lockedUntil: row.locked_until?.getTime() ?? null } : null;
      }
      const decision = decide(states);
      for (const { key, index } of order) {
        const before = states[index];
        const after = decision.states[index] ?? null;
        if (sameState(before ?? null, after)) continue;
        const where = { tenant_kind_key: { tenant, kind: key.kind, key: key.key } };
        if (after === null) {
          await tx.loginThrottle.deleteMany({ where: { tenant, kind: key.kind, key: key.key } });
          continue;
        }
        const data = {
          failures: after.failures,
          windowStartedAt: new Date(after.windowStartedAt),
          lockedUntil: after.lockedUntil === null ? null : new Date(after.lockedUntil),
          updatedAt: new Date(),
        };
        // A row that did not exist could be inserted by a concurrent transaction meanwhile: upsert.
        await tx.loginThrottle.upsert({ where, create: { tenant, kind: key.kind, key: key.key, ...data }, update: data });
      }
      return decision.result;
    });
  }

  /** Deletes counters that neither lock anything nor count within any window any more. */
  async sweep(now: number, longestWindowMs: number): Promise<number> {
    const { count } = await this.db.prisma.loginThrottle.deleteMany({
      where: {
        OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date(now) } }],
        windowStartedAt: { lt: new Date(now - longestWindowMs) },
      },
    });
    return count;
  }
}

function sameState(a: ThrottleState | null, b: ThrottleState | null): boolean {
  if (a === null || b === null) return a === b;
  return a.failures === b.failures && a.windowStartedAt === b.windowStartedAt && a.lockedUntil === b.lockedUntil;
}
