/** What a client assertion must say, and the time it is checked at. */
export interface AssertionExpectations {
  clientId: string;
  /** Any one of these must be in `aud`: the token endpoint URL, or the issuer. */
  audiences: readonly string[];
  /** Epoch seconds. */
  now: number;
  /** How far in the future `exp` may be (default 300 s). */
  maxLifetimeSeconds?: number;
  /** Clock skew tolerated between the client and us (default 30 s). */
  skewSeconds?: number;
}

export interface CheckedAssertionClaims {
  jti: string;
  exp: number;
}

export type AssertionClaimsCheck = { ok: true; claims: CheckedAssertionClaims } | { ok: false; reason: string };

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * RFC 7523 §3 + OIDC Core §9 checks of a private_key_jwt client assertion's claims (its signature is
 * checked elsewhere). The reason is for logs only: the client always just gets `invalid_client`.
 */
export function checkAssertionClaims(claims: Record<string, unknown>, expected: AssertionExpectations): AssertionClaimsCheck {
  const { now } = expected;
  const skew = expected.skewSeconds ?? 30;
  const maxLifetime = expected.maxLifetimeSeconds ?? 300;
  const fail = (reason: string): AssertionClaimsCheck => ({ ok: false, reason });

  // RFC 7523 §3 items 1–2, OIDC Core §9: iss and sub are both the client_id.
  if (claims.iss !== expected.clientId) return fail('iss is not the client_id');
  if (claims.sub !== expected.clientId) return fail('sub is not the client_id');
  // RFC 7523 §3 item 3: the authorization server is an intended audience.
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.some((audience) => typeof audience === 'string' && expected.audiences.includes(audience))) return fail('aud does not name this authorization server');
  // RFC 7523 §3 item 4: exp is required and in the future; we also want it near (a short-lived assertion).
  if (!isNumber(claims.exp)) return fail('exp is missing');
  if (claims.exp <= now - skew) return fail('assertion has expired');
  if (claims.exp > now + maxLifetime + skew) return fail(`exp is more than ${maxLifetime} s in the future`);
  // RFC 7523 §3 items 5–6: nbf and iat, when present, are not in the future.
  if (claims.nbf !== undefined && (!isNumber(claims.nbf) || claims.nbf > now + skew)) return fail('nbf is in the future');
  if (claims.iat !== undefined && (!isNumber(claims.iat) || claims.iat > now + skew)) return fail('iat is in the future');
  if (isNumber(claims.iat) && claims.exp <= claims.iat) return fail('exp is not after iat');
  // RFC 7523 §3 item 7: a jti, which we require so that an assertion is used once.
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) return fail('jti is missing');
  return { ok: true, claims: { jti: claims.jti, exp: claims.exp } };
}
