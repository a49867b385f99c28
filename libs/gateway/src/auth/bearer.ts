import { type AccessTokenClaims, ContractError, VerifyAccessToken } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';

/** RFC 6750 §3.1 error codes of a protected resource. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export const BEARER_STATUS: Readonly<Record<BearerError, number>> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 };

/** What a request's `Authorization` header says about a bearer token (RFC 6750 §2.1). */
export type BearerHeader = { kind: 'absent' } | { kind: 'malformed' } | { kind: 'token'; token: string };

/** `Bearer <b64token>`: the scheme is case-insensitive (RFC 9110 §11.1), the token is RFC 6750's b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function parseBearerHeader(authorization: string | undefined): BearerHeader {
  if (authorization === undefined) return { kind: 'absent' };
  const match = BEARER.exec(authorization);
  return match ? { kind: 'token', token: match[1] as string } : { kind: 'malformed' };
}

export interface ChallengeError {
  code: BearerError;
  description: string;
  /** The scope the resource needs (with `insufficient_scope`). */
  scope?: string;
}

/**
 * RFC 6750 §3: the `WWW-Authenticate` value of a protected resource. Without an error (no token was
 * sent at all, §3.1) only the realm. Descriptions are our own ASCII words without quotes.
 */
export function bearerChallenge(realm: string, error?: ChallengeError): string {
  const parts = [`realm="${realm}"`];
  if (error) parts.push(`error="${error.code}"`, `error_description="${error.description}"`);
  if (error?.scope) parts.push(`scope="${error.scope}"`);
  return `Bearer ${parts.join(', ')}`;
}

export type VerifiedBearer = { active: true; claims: AccessTokenClaims } | { active: false; description: string };

/**
 * Asks the token service whether the token is a live access token of this tenant: signature, issuer,
 * expiry and revocation (a revoked token or a suspended device's token is refused at once). A token
 * outside the contract (too long) is as invalid as a forged one.
 */
export async function verifyBearer(messaging: ContractClient, tenant: string, token: string): Promise<VerifiedBearer> {
  let verified;
  try {
    verified = await messaging.send(VerifyAccessToken, { tenant, token });
  } catch (error) {
    if (ContractError.is(error, 'invalid_request')) return { active: false, description: 'the access token is invalid' };
    throw error;
  }
  if (!verified.active) return { active: false, description: 'the access token is invalid, expired or revoked' };
  return { active: true, claims: verified.claims };
}

/** The space-separated `scope` claim as a list. */
export function scopesOf(claims: Pick<AccessTokenClaims, 'scope'>): string[] {
  return claims.scope?.split(' ').filter(Boolean) ?? [];
}
