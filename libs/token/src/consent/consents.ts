import type { TokenDatabase } from '../token.prisma.js';

/** Remembered consent of a user to a client's scopes. */
export class Consents {
  constructor(private readonly db: TokenDatabase) {}

  /** Adds scopes to the user's consent for the client (consent only grows until it is revoked). */
  async remember(tenant: string, clientId: string, userId: string, scopes: string[]): Promise<void> {
    const where = { tenant_clientId_userId: { tenant, clientId, userId } };
    await this.db.prisma.$transaction(async (tx) => {
      const existing = await tx.consent.findUnique({ where });
      const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
      await tx.consent.upsert({ where, create: { tenant, clientId, userId, scopes: merged }, update: { scopes: merged } });
    });
  }

  /** The requested scopes the user has not consented to yet. */
  async missing(tenant: string, clientId: string, userId: string, scopes: string[]): Promise<string[]> {
    const row = await this.db.prisma.consent.findUnique({ where: { tenant_clientId_userId: { tenant, clientId, userId } } });
    return scopes.filter((scope) => !row?.scopes.includes(scope));
  }

  async revoke(tenant: string, clientId: string, userId: string): Promise<boolean> {
    const { count } = await this.db.prisma.consent.deleteMany({ where: { tenant, clientId, userId } });
    return count > 0;
  }
}
