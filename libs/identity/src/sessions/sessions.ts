import { createHash } from 'node:crypto';
import { acrFor, type AuthenticationContextClass, type AuthenticationMethod, ContractError, type SessionSummary } from '@latchkey/contracts';
import { randomToken } from '@latchkey/crypto';
import type { Clock } from '../clock.js';
import type { IdentityDatabase } from '../identity.prisma.js';
import { toUserSummary } from '../users/users.js';

export interface SessionPolicy {
  /** A session not used for this long ends. */
  idleTimeoutSeconds: number;
  /** A session ends this long after sign-in, however busy. */
  absoluteLifetimeSeconds: number;
}

/** Keycloak's defaults: 30 minutes idle, 10 hours at most. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleTimeoutSeconds: 1800, absoluteLifetimeSeconds: 36_000 };

function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

/** Browser sessions. The id is 256 random bits handed out once; only its SHA-256 is stored. */
export class Sessions {
  constructor(
    private readonly db: IdentityDatabase,
    private readonly policy: SessionPolicy,
    private readonly clock: Clock,
  ) {}

  async create(tenant: string, userId: string, amr: AuthenticationMethod[], acr: AuthenticationContextClass): Promise<{ sessionId: string; expiresAt: string }> {
    const methods = [...new Set(amr)];
    if (acrFor(methods) !== acr) throw new ContractError('invalid_request', `acr ${acr} does not match amr ${methods.join(' ')}`);
    const user = await this.db.prisma.user.findFirst({ where: { id: userId, tenant, status: 'active' }, select: { id: true } });
    if (!user) throw new ContractError('not_found', 'no such active user');
    const now = this.clock();
    const sessionId = randomToken(32);
    const expiresAt = new Date(now + this.policy.absoluteLifetimeSeconds * 1000);
    await this.db.prisma.session.create({
      data: { idHash: hashSessionId(sessionId), tenant, userId, amr: methods, acr, authTime: new Date(now), lastSeenAt: new Date(now), expiresAt },
    });
    return { sessionId, expiresAt: expiresAt.toISOString() };
  }

  /** The live session, its idle expiry pushed back; null for anything else (an expired one is deleted). */
  async get(tenant: string, sessionId: string): Promise<SessionSummary | null> {
    const idHash = hashSessionId(sessionId);
    const row = await this.db.prisma.session.findUnique({ where: { idHash }, include: { user: true } });
    if (!row || row.tenant !== tenant) return null;
    const now = this.clock();
    const idleDeadline = row.lastSeenAt.getTime() + this.policy.idleTimeoutSeconds * 1000;
    if (now >= row.expiresAt.getTime() || now >= idleDeadline || row.user.status !== 'active') {
      await this.db.prisma.session.deleteMany({ where: { idHash } });
      return null;
    }
    // Conditional on the row still being there: a concurrent logout wins.
    const { count } = await this.db.prisma.session.updateMany({ where: { idHash, tenant }, data: { lastSeenAt: new Date(now) } });
    if (count === 0) return null;
    return {
      user: toUserSummary(row.user),
      amr: row.amr as AuthenticationMethod[],
      acr: row.acr as AuthenticationContextClass,
      authTime: Math.floor(row.authTime.getTime() / 1000),
      expiresAt: row.expiresAt.toISOString(),
      idleExpiresAt: new Date(Math.min(now + this.policy.idleTimeoutSeconds * 1000, row.expiresAt.getTime())).toISOString(),
    };
  }

  /** Logout. */
  async end(tenant: string, sessionId: string): Promise<boolean> {
    const { count } = await this.db.prisma.session.deleteMany({ where: { idHash: hashSessionId(sessionId), tenant } });
    return count > 0;
  }

  /** Deletes sessions past their absolute or idle expiry. */
  async sweepExpired(): Promise<number> {
    const now = this.clock();
    const { count } = await this.db.prisma.session.deleteMany({
      where: { OR: [{ expiresAt: { lte: new Date(now) } }, { lastSeenAt: { lte: new Date(now - this.policy.idleTimeoutSeconds * 1000) } }] },
    });
    return count;
  }
}
