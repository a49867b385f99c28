import { randomUUID } from 'node:crypto';
import { issuerOf } from '@latchkey/config';
import type { ActorClaimValue } from '@latchkey/contracts';
import { decodeJwt, type JwsAlgorithm, signJwt, verifyJwtSignature } from '@latchkey/crypto';
import type { SigningKeys } from '../keys/signing-keys.js';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope?: string;
  iat: number;
  exp: number;
  jti: string;
  tenant: string;
  /** A device's own token (docs/adr/0017): its type, and its owner's user id when it has one. */
  device_type?: string;
  owner?: string;
  /** A delegated token (RFC 8693 §4.1, docs/adr/0021): who acts for `sub`, the current actor outermost. */
  act?: ActorClaimValue;
  /** A delegated token: the delegation grant it was issued under; ending the grant revokes it. */
  gid?: string;
}

export interface IssueAccessToken {
  tenant: string;
  subject: string;
  clientId: string;
  audience: string | string[];
  scopes: string[];
  lifetimeSeconds: number;
  /** For a device's own token: the claims `device_type` and `owner`. */
  device?: { type: string; ownerId: string | null };
  /** For a delegated token (docs/adr/0021): the claims `act` and `gid`. */
  delegation?: { act: ActorClaimValue; grantId: string };
  /** The token's date (epoch ms) when it is not now: a device's, when the registry checked its proof (docs/adr/0017). */
  issuedAt?: number | undefined;
}

/** A clock the tests can move. */
export type Clock = () => number;

/**
 * RFC 9068 JWT access tokens: `typ: at+jwt`, signed by the tenant's active key; verification accepts
 * only this tenant's keys, the key's own algorithm, and the tenant's issuer.
 */
export class AccessTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly publicUrl: string,
    private readonly now: Clock = Date.now,
  ) {}

  async issue(request: IssueAccessToken): Promise<{ token: string; claims: AccessTokenClaims }> {
    const signer = await this.keys.activeSigner(request.tenant);
    const iat = Math.floor((request.issuedAt ?? this.now()) / 1000);
    const claims: AccessTokenClaims = {
      iss: issuerOf(this.publicUrl, request.tenant),
      sub: request.subject,
      aud: request.audience,
      client_id: request.clientId,
      ...(request.scopes.length ? { scope: request.scopes.join(' ') } : {}),
      iat,
      exp: iat + request.lifetimeSeconds,
      jti: randomUUID(),
      tenant: request.tenant,
      ...(request.device ? { device_type: request.device.type, ...(request.device.ownerId !== null ? { owner: request.device.ownerId } : {}) } : {}),
      ...(request.delegation ? { act: request.delegation.act, gid: request.delegation.grantId } : {}),
    };
    const token = signJwt({ alg: signer.alg, typ: 'at+jwt', kid: signer.kid }, { ...claims }, signer.privateKey);
    return { token, claims };
  }

  /** The claims of a token this tenant issued that is still within its lifetime, else null. */
  async verify(tenant: string, token: string): Promise<AccessTokenClaims | null> {
    const jwt = decodeJwt(token);
    if (!jwt || jwt.header.typ !== 'at+jwt' || typeof jwt.header.kid !== 'string') return null;
    const key = await this.keys.verificationKey(jwt.header.kid);
    if (!key || key.tenant !== tenant) return null;
    if (!verifyJwtSignature(jwt, key.publicKey, key.alg as JwsAlgorithm)) return null;
    const claims = jwt.payload as Partial<AccessTokenClaims>;
    const now = Math.floor(this.now() / 1000);
    if (claims.iss !== issuerOf(this.publicUrl, tenant) || claims.tenant !== tenant) return null;
    if (typeof claims.exp !== 'number' || claims.exp <= now || typeof claims.jti !== 'string' || typeof claims.client_id !== 'string') return null;
    // Revocation cut-offs compare against iat and sub (docs/adr/0017): a token of ours always has both.
    if (typeof claims.iat !== 'number' || typeof claims.sub !== 'string') return null;
    // A grant revocation matches on gid (docs/adr/0021): a token of ours carries it as a string or not at all.
    if (claims.gid !== undefined && typeof claims.gid !== 'string') return null;
    return claims as AccessTokenClaims;
  }
}
