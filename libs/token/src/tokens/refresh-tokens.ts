import { randomUUID } from 'node:crypto';
import { randomToken, sha256Hex } from '@latchkey/crypto';
import type { RefreshToken, RefreshTokenFamily } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from './access-tokens.js';

/** Revokes an issued access token: recorded at once and announced (see TokenEndpoints.revoke). */
export interface AccessTokenRevoker {
  revokeAccessToken(tenant: string, jti: string, clientId: string, expiresAt: Date): Promise<void>;
}

/** The authorization a family descends from. */
export interface FamilyGrant {
  tenant: string;
  clientId: string;
  userId: string;
  scopes: string[];
  authTime: number;
  amr: string[];
  acr: string;
  sessionId: string | null;
}

export interface RefreshLifetimes {
  absoluteSeconds: number;
  idleSeconds: number;
}

/** The access token issued together with a refresh token: revoked with its family. */
export interface CompanionAccessToken {
  jti: string;
  expiresAt: Date;
}

export type PresentedRefreshToken = RefreshToken & { family: RefreshTokenFamily };

/**
 * Refresh-token families (RFC 6749 §6, RFC 9700 §4.14.2): opaque 256-bit tokens stored only as
 * SHA-256, rotated on every use. Spending is one conditional UPDATE, so a token is spent once; a spent
 * token presented again revokes its whole family and every access token issued in it.
 */
export class RefreshTokens {
  constructor(
    private readonly db: TokenDatabase,
    private readonly revoker: AccessTokenRevoker,
    private readonly clock: Clock,
  ) {}

  /** A new family; its first token comes from `issue`. The family id is chosen before any token exists. */
  async createFamily(grant: FamilyGrant, lifetimes: RefreshLifetimes): Promise<{ id: string; absoluteExpiresAt: Date }> {
    const id = randomUUID();
    const now = this.clock();
    const absoluteExpiresAt = new Date(now + lifetimes.absoluteSeconds * 1000);
    await this.db.prisma.refreshTokenFamily.create({ data: { id, ...grant, createdAt: new Date(now), absoluteExpiresAt } });
    return { id, absoluteExpiresAt };
  }

  /** A new token in the family, expiring after the idle lifetime but never after the family. */
  async issue(familyId: string, absoluteExpiresAt: Date, idleSeconds: number, companion: CompanionAccessToken): Promise<string> {
    const token = randomToken();
    const idleExpiresAt = new Date(Math.min(this.clock() + idleSeconds * 1000, absoluteExpiresAt.getTime()));
    await this.db.prisma.refreshToken.create({
      data: { tokenHash: sha256Hex(token), familyId, createdAt: new Date(this.clock()), idleExpiresAt, accessTokenJti: companion.jti, accessTokenExpiresAt: companion.expiresAt },
    });
    return token;
  }

  /** The presented token with its family, if it exists in this tenant (whatever its state). */
  async find(tenant: string, token: string): Promise<PresentedRefreshToken | null> {
    const row = await this.db.prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { family: true } });
    return row && row.family.tenant === tenant ? row : null;
  }

  isExpired(token: PresentedRefreshToken): boolean {
    const now = this.clock();
    return token.idleExpiresAt.getTime() <= now || token.family.absoluteExpiresAt.getTime() <= now;
  }

  /** Could still be exchanged: unspent, unexpired, its family not revoked (RFC 7662 `active`). */
  isLive(token: PresentedRefreshToken): boolean {
    return token.usedAt === null && token.family.revokedAt === null && !this.isExpired(token);
  }

  /** Spends the token; false when it had been spent already (by an earlier use or a concurrent one). */
  async spend(token: PresentedRefreshToken): Promise<boolean> {
    const { count } = await this.db.prisma.refreshToken.updateMany({ where: { tokenHash: token.tokenHash, usedAt: null }, data: { usedAt: new Date(this.clock()) } });
    return count === 1;
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    const family = await this.db.prisma.refreshTokenFamily.findUnique({ where: { id: familyId }, select: { revokedAt: true } });
    return !family || family.revokedAt !== null;
  }

  /**
   * Revokes a family: no token of it refreshes any more, and every access token issued in it that may
   * still be live is revoked. Idempotent.
   */
  async revokeFamily(familyId: string, reason: string): Promise<void> {
    const now = new Date(this.clock());
    await this.db.prisma.refreshTokenFamily.updateMany({ where: { id: familyId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } });
    const family = await this.db.prisma.refreshTokenFamily.findUnique({ where: { id: familyId }, include: { tokens: { where: { accessTokenExpiresAt: { gt: now } } } } });
    if (!family) return;
    for (const token of family.tokens) await this.revoker.revokeAccessToken(family.tenant, token.accessTokenJti, family.clientId, token.accessTokenExpiresAt);
  }

  /** Revokes every live family of a user at a client (consent withdrawn); returns how many. */
  async revokeFamiliesOf(tenant: string, clientId: string, userId: string, reason: string): Promise<number> {
    const families = await this.db.prisma.refreshTokenFamily.findMany({ where: { tenant, clientId, userId, revokedAt: null }, select: { id: true } });
    for (const family of families) await this.revokeFamily(family.id, reason);
    return families.length;
  }

  /** Families past their absolute lifetime can go, with their tokens. */
  async sweepExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.prisma.refreshTokenFamily.deleteMany({ where: { absoluteExpiresAt: { lt: now } } });
    return count;
  }
}
