import { issuerOf } from '@latchkey/config';
import type { ClientJwk } from '@latchkey/contracts';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';
import { checkAssertionClaims } from './assertion-claims.js';
import type { ClientRepository } from './client.repository.js';
import type { OAuthClient } from './oauth-client.js';

/**
 * The JWS algorithms a registered key verifies: its own, never another's, never `none` or HMAC
 * (RFC 8725 §3.1, §3.2). EC P-256 → ES256, Ed25519 → EdDSA (or its fully-specified name), RSA →
 * RS256 unless the key declares PS256.
 */
export function algorithmsOf(jwk: ClientJwk): string[] {
  switch (jwk.kty) {
    case 'EC':
      return ['ES256'];
    case 'OKP':
      return ['EdDSA', 'Ed25519'];
    case 'RSA':
      return [jwk.alg ?? 'RS256'];
  }
}

/** Keys of the client that may have signed an assertion with this header. */
export function candidateKeys(keys: readonly ClientJwk[], header: { alg?: unknown; kid?: unknown }): ClientJwk[] {
  if (typeof header.alg !== 'string') return [];
  const alg = header.alg;
  return keys.filter((key) => algorithmsOf(key).includes(alg) && (header.kid === undefined || key.kid === header.kid));
}

export interface ClientAssertionOptions {
  /** Longest `exp - now` accepted (default 300 s). */
  maxLifetimeSeconds?: number;
  skewSeconds?: number;
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
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      return null;
    }
    // RFC 7523 §3 item 2: the client is the subject; a client_id sent alongside must agree (RFC 7521 §4.2).
    const clientId = claimedClientId ?? unverified.sub;
    if (typeof clientId !== 'string' || (claimedClientId !== undefined && unverified.sub !== claimedClientId)) return null;
    const client = await this.clients.find(tenant, clientId);
    if (!client || !client.authMethods.includes('private_key_jwt') || !client.jwks) return null;

    const payload = await this.verifySignature(assertion, header, client.jwks.keys);
    if (!payload) return null;
    const issuer = issuerOf(this.publicUrl, tenant);
    const checked = checkAssertionClaims(payload, {
      clientId: client.clientId,
      audiences: [`${issuer}/oauth2/token`, issuer],
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

  private async verifySignature(assertion: string, header: { alg?: unknown; kid?: unknown }, keys: readonly ClientJwk[]): Promise<Record<string, unknown> | null> {
    const alg = header.alg as string;
    for (const jwk of candidateKeys(keys, header)) {
      try {
        // The key is imported for exactly the header's algorithm, which is one the key allows.
        const { alg: _declared, ...material } = jwk;
        const key = await importJWK(material as JWK, alg);
        const { payload } = await compactVerify(assertion, key, { algorithms: [alg] });
        const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
        return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
      } catch {
        // Not this key (or not a valid JWS at all): try the next candidate.
      }
    }
    return null;
  }

  /** Recorded jtis are useless once their assertion has expired. */
  async sweepExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.prisma.clientAssertionJti.deleteMany({ where: { expiresAt: { lt: now } } });
    return count;
  }
}
