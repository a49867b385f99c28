import type { TokenDatabase } from '../token.prisma.js';

/** What a revocation check needs of a verified access token. */
export interface RevocableToken {
  jti: string;
  sub: string;
  client_id: string;
  /** Seconds since the epoch. */
  iat: number;
  /** A delegated token's grant (docs/adr/0021). */
  gid?: string | undefined;
}

/**
 * Three kinds of revocation, all kept only while a token they revoke could still be alive:
 * - revoked JWT ids (RFC 7009, refresh-family and code-replay revocations), until the token expires;
 * - per-subject cut-offs (a suspended or decommissioned device, a revoked device credential;
 *   docs/adr/0017): every token whose `sub` or `client_id` is the subject and whose `iat` is at or
 *   before the cut-off is revoked;
 * - ended delegation grants (revoked, declined, expired; docs/adr/0021): every token whose `gid` is the
 *   grant is revoked, whenever it was issued — a grant that ended never comes back.
 */
export class Revocations {
  constructor(private readonly db: TokenDatabase) {}

  async revoke(tenant: string, jti: string, clientId: string, expiresAt: Date): Promise<void> {
    // ON CONFLICT DO NOTHING: two replicas revoking the same token at once both succeed.
    await this.db.prisma.revokedToken.createMany({ data: [{ tenant, jti, clientId, expiresAt }], skipDuplicates: true });
  }

  /**
   * Every check in one statement, so the verify path costs the one round trip it always did: the jti
   * by its primary key, the subject and the client by the cut-offs' primary key, the grant of a
   * delegated token by the grant revocations' primary key (no grant: `grant_id = NULL` matches nothing).
   */
  async isRevoked(tenant: string, token: RevocableToken): Promise<boolean> {
    const [row] = await this.db.prisma.$queryRaw<{ revoked: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM "token"."revoked_token" WHERE tenant = ${tenant} AND jti = ${token.jti})
          OR EXISTS (
            SELECT 1 FROM "token"."subject_revocation"
            WHERE tenant = ${tenant} AND subject IN (${token.sub}, ${token.client_id})
              AND revoked_before >= to_timestamp(${token.iat}::double precision)
          )
          OR EXISTS (SELECT 1 FROM "token"."grant_revocation" WHERE tenant = ${tenant} AND grant_id = ${token.gid ?? null}::text) AS revoked`;
    return row?.revoked === true;
  }

  /**
   * Revokes every token issued under a delegation grant that ended (docs/adr/0021). Idempotent: the
   * first end is kept, `expiresAt` only grows. `expiresAt`: when no token of the grant can be alive.
   */
  async revokeGrant(tenant: string, grantId: string, reason: string, endedAt: Date, expiresAt: Date): Promise<void> {
    await this.db.prisma.$executeRaw`
      INSERT INTO "token"."grant_revocation" AS r (tenant, grant_id, reason, ended_at, expires_at)
      VALUES (${tenant}, ${grantId}, ${reason}, ${endedAt}::timestamptz, ${expiresAt}::timestamptz)
      ON CONFLICT (tenant, grant_id) DO UPDATE SET expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)`;
  }

  /**
   * Revokes every token of `subject` issued at or before `revokedBefore` (a whole second). The cut-off
   * only moves forward, so the same event twice, or two events out of order, leave the latest one.
   * `expiresAt`: when no token it could revoke is alive any more (then a sweep deletes it).
   */
  async revokeSubject(tenant: string, subject: string, revokedBefore: Date, expiresAt: Date): Promise<void> {
    await this.db.prisma.$executeRaw`
      INSERT INTO "token"."subject_revocation" AS r (tenant, subject, revoked_before, expires_at, updated_at)
      VALUES (${tenant}, ${subject}, ${revokedBefore}::timestamptz, ${expiresAt}::timestamptz, now())
      ON CONFLICT (tenant, subject) DO UPDATE SET
        revoked_before = GREATEST(r.revoked_before, EXCLUDED.revoked_before),
        expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at),
        updated_at = EXCLUDED.updated_at`;
  }

  async sweepExpired(now = new Date()): Promise<number> {
    const [tokens, subjects, grants] = await Promise.all([
      this.db.prisma.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } }),
      this.db.prisma.subjectRevocation.deleteMany({ where: { expiresAt: { lt: now } } }),
      this.db.prisma.grantRevocation.deleteMany({ where: { expiresAt: { lt: now } } }),
    ]);
    return tokens.count + subjects.count + grants.count;
  }
}
