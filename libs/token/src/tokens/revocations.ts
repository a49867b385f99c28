import type { TokenDatabase } from '../token.prisma.js';

/** What a revocation check needs of a verified access token. */
export interface RevocableToken {
  jti: string;
  sub: string;
  client_id: string;
  /** Seconds since the epoch. */
  iat: number;
}

/**
 * Two kinds of revocation, both kept only while a token they revoke could still be alive:
 * - revoked JWT ids (RFC 7009, refresh-family and code-replay revocations), until the token expires;
 * - per-subject cut-offs (a suspended or decommissioned device, a revoked device credential;
 *   docs/adr/0017): every token whose `sub` or `client_id` is the subject and whose `iat` is at or
 *   before the cut-off is revoked.
 */
export class Revocations {
  constructor(private readonly db: TokenDatabase) {}

  async revoke(tenant: string, jti: string, clientId: string, expiresAt: Date): Promise<void> {
    // ON CONFLICT DO NOTHING: two replicas revoking the same token at once both succeed.
    await this.db.prisma.revokedToken.createMany({ data: [{ tenant, jti, clientId, expiresAt }], skipDuplicates: true });
  }

  /**
   * Both checks in one statement, so the verify path costs the one round trip it always did: the jti
   * by its primary key, the subject and the client by the cut-offs' primary key.
   */
  async isRevoked(tenant: string, token: RevocableToken): Promise<boolean> {
    const [row] = await this.db.prisma.$queryRaw<{ revoked: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM "token"."revoked_token" WHERE tenant = ${tenant} AND jti = ${token.jti})
          OR EXISTS (
            SELECT 1 FROM "token"."subject_revocation"
            WHERE tenant = ${tenant} AND subject IN (${token.sub}, ${token.client_id})
              AND revoked_before >= to_timestamp(${token.iat}::double precision)
          ) AS revoked`;
    return row?.revoked === true;
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
    const [tokens, subjects] = await Promise.all([
      this.db.prisma.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } }),
      this.db.prisma.subjectRevocation.deleteMany({ where: { expiresAt: { lt: now } } }),
    ]);
    return tokens.count + subjects.count;
  }
}
