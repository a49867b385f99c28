import { randomToken, sha256Hex } from '@latchkey/crypto';
import type { Prisma } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';
import type { ValidatedAuthorizationRequest } from './authorization-request.js';

export interface StoredInteraction {
  tenant: string;
  clientId: string;
  request: ValidatedAuthorizationRequest;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * Validated authorization requests waiting for login and consent. The id (256 random bits) is handed
 * to the gateway; only its SHA-256 is stored. Completing one is atomic and single use.
 */
export class Interactions {
  constructor(
    private readonly db: TokenDatabase,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {}

  async create(tenant: string, request: ValidatedAuthorizationRequest): Promise<{ interactionId: string; expiresAt: Date }> {
    const interactionId = randomToken();
    const now = this.clock();
    const expiresAt = new Date(now + this.ttlSeconds * 1000);
    await this.db.prisma.authorizationInteraction.create({
      data: {
        idHash: sha256Hex(interactionId),
        tenant,
        clientId: request.clientId,
        request: request as unknown as Prisma.InputJsonValue,
        createdAt: new Date(now),
        expiresAt,
      },
    });
    return { interactionId, expiresAt };
  }

  /** A pending interaction of this tenant, or null when unknown, expired or completed. */
  async find(tenant: string, interactionId: string): Promise<StoredInteraction | null> {
    const row = await this.db.prisma.authorizationInteraction.findUnique({ where: { idHash: sha256Hex(interactionId) } });
    if (!row || row.tenant !== tenant || row.completedAt !== null || row.expiresAt.getTime() <= this.clock()) return null;
    return toStored(row);
  }

  /** Marks the interaction completed; null when another caller completed it first (or it is gone). */
  async complete(tenant: string, interactionId: string): Promise<StoredInteraction | null> {
    const idHash = sha256Hex(interactionId);
    const now = new Date(this.clock());
    const { count } = await this.db.prisma.authorizationInteraction.updateMany({
      where: { idHash, tenant, completedAt: null, expiresAt: { gt: now } },
      data: { completedAt: now },
    });
    if (count !== 1) return null;
    const row = await this.db.prisma.authorizationInteraction.findUnique({ where: { idHash } });
    return row && toStored(row);
  }

  async sweepExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.prisma.authorizationInteraction.deleteMany({ where: { expiresAt: { lt: now } } });
    return count;
  }
}

function toStored(row: { tenant: string; clientId: string; request: Prisma.JsonValue; createdAt: Date; expiresAt: Date }): StoredInteraction {
  return { tenant: row.tenant, clientId: row.clientId, request: row.request as unknown as ValidatedAuthorizationRequest, createdAt: row.createdAt, expiresAt: row.expiresAt };
}
