import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';

/** The public JWK shapes a client or device may register (validated by the contracts when stored). */
export interface RegisteredPublicJwk {
  kty: string;
  crv?: string;
  alg?: string;
  kid?: string;
  [member: string]: unknown;
}

/**
 * The JWS algorithms a registered key verifies: its own, never another's, never `none` or HMAC
 * (RFC 8725 §3.1, §3.2). EC P-256 → ES256, Ed25519 → EdDSA (or its fully-specified name), RSA →
 * RS256 unless the key declares PS256.
 */
export function algorithmsOf(jwk: RegisteredPublicJwk): string[] {
  switch (jwk.kty) {
    case 'EC':
      return jwk.crv === 'P-256' ? ['ES256'] : [];
    case 'OKP':
      return jwk.crv === 'Ed25519' ? ['EdDSA', 'Ed25519'] : [];
    case 'RSA':
      return [jwk.alg ?? 'RS256'];
    default:
      return [];
  }
}

/** Keys that may have signed an assertion with this header. */
export function candidateKeys<K extends RegisteredPublicJwk>(keys: readonly K[], header: { alg?: unknown; kid?: unknown }): K[] {
  if (typeof header.alg !== 'string') return [];
  const alg = header.alg;
  return keys.filter((key) => algorithmsOf(key).includes(alg) && (header.kid === undefined || key.kid === header.kid));
}

/** An assertion's header and claims, read before anything is verified (to find the client and its keys). */
export function readUnverifiedAssertion(assertion: string): { header: { alg?: unknown; kid?: unknown }; claims: Record<string, unknown> } | null {
  try {
    return { header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion) };
  } catch {
    return null;
  }
}

/**
 * Verifies a compact JWS against the registered keys that match its header, each with exactly the
 * header's algorithm (one the key allows). Returns the verified claims and the key that verified them.
 */
export async function verifyAssertionSignature<K extends RegisteredPublicJwk>(
  assertion: string,
  header: { alg?: unknown; kid?: unknown },
  keys: readonly K[],
): Promise<{ claims: Record<string, unknown>; key: K } | null> {
  const alg = header.alg as string;
  for (const jwk of candidateKeys(keys, header)) {
    try {
      const { alg: _declared, ...material } = jwk;
      const key = await importJWK(material as JWK, alg);
      const { payload } = await compactVerify(assertion, key, { algorithms: [alg] });
      const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
      if (claims !== null && typeof claims === 'object' && !Array.isArray(claims)) return { claims: claims as Record<string, unknown>, key: jwk };
      return null;
    } catch {
      // Not this key (or not a valid JWS at all): try the next candidate.
    }
  }
  return null;
}
