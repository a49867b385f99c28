import { issuerOf } from '@latchkey/config';
import { checkAssertionClaims, readUnverifiedAssertion, verifyAssertionSignature } from '@latchkey/crypto';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';
import type { ClientRepository } from './client.repository.js';
import type { OAuthClient } from './oauth-client.js';

export interface ClientAssertionOptions {
  /** Longest `exp - now` accepted (default 300 s). */
  maxLifetimeSeconds?: number;
  skewSeconds?: number;
}

/** RFC 7523 §3 item 3: the audiences an assertion may name — the token endpoint URL or the issuer. */
export function assertionAudiences(publicUrl: string, tenant: string): string[] {
  const issuer = issuerOf(publicUrl, tenant);
  return [`${issuer}/oauth2/token`, issuer];
}

/** The client an assertion claims to be: the client_id sent with it, else its (unverified) `sub` (RFC 7523 §3 item 2). */
export function assertedClientId(assertion: string, claimedClientId: string | undefined): string | undefined {
  if (claimedClientId !== undefined) return claimedClientId;
  const sub = readUnverifiedAssertion(assertion)?.claims.sub;
  return typeof sub === 'string' ? sub : undefined;
}

/**
 * private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9): a client proves itself with a JWT signed by one of
 * its registered public keys. The signature is checked with jose against the client's keys only, with
 * the key's own algorithm; the claims by `checkAssertionClaims`; the `jti` is then recorded until the
 * assertion expires, so each assertion authenticates once. Every failure is undistinguishable.
 */
export class ClientAssertions {
  constructor(
    private readonly clients: ClientRepository,
    private readonly db: TokenDatabase,
    private readonly publicUrl: string,
    private readonly clock: Clock,
    private readonly options: ClientAssertionOptions = {},
  ) {}

  /** The authenticated client, or null (the caller answers `invalid_client`). */
  async authenticate(tenant: string, assertion: string, claimedClientId: string | undefined): Promise<OAuthClient | null> {
    const read = readUnverifiedAssertion(assertion);
    if (!read) return null;
    const { header, claims: unverified } = read;
    // RFC 7523 §3 item 2: the client is the subject; a client_id sent alongside must agree (RFC 7521 §4.2).
    const clientId = claimedClientId ?? unverified.sub;
    if (typeof clientId !== 'string' || (claimedClientId !== undefined && unverified.sub !== claimedClientId)) return null;
    const client = await this.clients.find(tenant, clientId);
    if (!client || !client.authMethods.includes('private_key_jwt') || !client.jwks) return null;

    const verified = await verifyAssertionSignature(assertion, header, client.jwks.keys);
    if (!verified) return null;
    const checked = checkAssertionClaims(verified.claims, {
      clientId: client.clientId,
      audiences: assertionAudiences(this.publicUrl, tenant),
      now: Math.floor(this.clock() / 1000),
      ...this.options,
    });
    if (!checked.ok) return null;
    // RFC 7523 §3 item 7: single use. The insert is the check, so two concurrent uses cannot both pass.
    const skew = this.options.skewSeconds ?? 30;
    const { count } = await this.db.prisma.clientAssertionJti.createMany({
      data: [{ tenant, clientId: client.clientId, jti: checked.claims.jti, expiresAt: new Date((checked.claims.exp + skew) * 1000) }],
      skipDuplicates: true,
    });
    return count === 1 ? client : null;
  }

  /** Recorded jtis are useless once their assertion has expired. */
  async sweepExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.prisma.clientAssertionJti.deleteMany({ where: { expiresAt: { lt: now } } });
    return count;
  }
}
