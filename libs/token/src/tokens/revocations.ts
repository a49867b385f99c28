import type { TokenDatabase } from '../token.prisma.js';

/** Revoked JWT ids, kept until the token would have expired anyway (then a sweep may delete them). */
export class Revocations {
  constructor(private readonly db: TokenDatabase) {}

  async revoke(tenant: string, jti: string, clientId: string, expiresAt: Date): Promise<void> {
    // ON CONFLICT DO NOTHING: two replicas revoking the same token at once both succeed.
    await this.db.prisma.revokedToken.createMany({ data: [{ tenant, jti, clientId, expiresAt }], skipDuplicates: true });
  }

  async isRevoked(tenant: string, jti: string): Promise<boolean> {
    const row = await this.db.prisma.revokedToken.findUnique({ where: { tenant_jti: { tenant, jti } }, select: { jti: true } });
    return row !== null;
  }

  async sweepExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.prisma.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } });
    return count;
  }
}
