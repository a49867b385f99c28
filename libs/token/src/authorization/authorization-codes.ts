import { randomToken, sha256Hex } from '@latchkey/crypto';
import type { AuthorizationCode } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';

/** What a code is bound to (RFC 6749 §4.1.2, RFC 7636 §4.4, OIDC Core §3.1.3.6). */
export interface CodeGrant {
  tenant: string;
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string;
  nonce?: string;
  scopes: string[];
  userId: string;
  authTime: number;
  amr: string[];
  acr: string;
  sessionId: string;
}

/** What a redemption issued: a replay of the code revokes exactly this (RFC 6749 §4.1.2). */
export interface CodeRedemption {
  accessTokenJti: string;
  accessTokenExpiresAt: Date;
  refreshFamilyId: string | null;
}

/**
 * Authorization codes: 256 random bits, stored only as SHA-256, short-lived and single use. Redeeming
 * is one conditional UPDATE, so of two concurrent redemptions exactly one wins.
 */
export class AuthorizationCodes {
  constructor(
    private readonly db: TokenDatabase,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {}

  async issue(grant: CodeGrant): Promise<string> {
    const code = randomToken();
    const now = this.clock();
    await this.db.prisma.authorizationCode.create({
      data: { ...grant, nonce: grant.nonce ?? null, codeHash: sha256Hex(code), createdAt: new Date(now), expiresAt: new Date(now + this.ttlSeconds * 1000) },
    });
    return code;
  }

  /** The code's row in this tenant, whatever its state; a code of another tenant does not exist here. */
  async find(tenant: string, code: string): Promise<AuthorizationCode | null> {
    const row = await this.db.prisma.authorizationCode.findUnique({ where: { codeHash: sha256Hex(code) } });
    return row && row.tenant === tenant ? row : null;
  }

  isExpired(row: AuthorizationCode): boolean {
    return row.expiresAt.getTime() <= this.clock();
  }

  /** Consumes the code and records what it issued; false when it was consumed already (a replay). */
  async redeem(row: AuthorizationCode, issued: CodeRedemption): Promise<boolean> {
    const { count } = await this.db.prisma.authorizationCode.updateMany({
      where: { codeHash: row.codeHash, consumedAt: null },
      data: { consumedAt: new Date(this.clock()), ...issued },
    });
    return count === 1;
  }

  /** Re-reads a code (after a lost race, to learn what the winner issued). */
  async reload(row: AuthorizationCode): Promise<AuthorizationCode | null> {
    return this.db.prisma.authorizationCode.findUnique({ where: { codeHash: row.codeHash } });
  }

  /** Codes are worthless a minute after issue; replay detection needs them only that long plus a margin. */
  async sweepExpired(olderThan: Date): Promise<number> {
    const { count } = await this.db.prisma.authorizationCode.deleteMany({ where: { expiresAt: { lt: olderThan } } });
    return count;
  }
}
