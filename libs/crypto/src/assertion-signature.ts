import type { JsonWebKey, KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt as decodeJwtClaims, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { decodeJwt, type JwsAlgorithm, publicKeyFromJwk, SUPPORTED_JWS_ALGORITHMS, verifyJwtSignature } from './compact-jwt.js';

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
    return { header: decodeProtectedHeader(assertion), claims: decodeJwtClaims(assertion) };
  } catch {
    return null;
  }
}

// Imported public keys by their key material: importing a JWK costs about as much as the verification
// itself, and a device presents the same key for months. Public keys only, so nothing secret is kept;
// whether a key may still be used is decided by the caller on every request, never by this cache.
const IMPORTED_KEYS = new Map<string, KeyObject>();
const IMPORTED_KEYS_MAX = 10_000;

function importedKey(jwk: RegisteredPublicJwk): KeyObject | null {
  const material = JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e]);
  let key = IMPORTED_KEYS.get(material);
  if (!key) {
    try {
      const { alg: _alg, kid: _kid, use: _use, ...members } = jwk;
      key = publicKeyFromJwk(members as JsonWebKey);
    } catch {
      return null;
    }
    // Oldest first out: a bounded cache whatever the fleet's size.
    if (IMPORTED_KEYS.size >= IMPORTED_KEYS_MAX) IMPORTED_KEYS.delete(IMPORTED_KEYS.keys().next().value!);
    IMPORTED_KEYS.set(material, key);
  }
  return key;
}

const isCompactAlgorithm = (alg: string): alg is JwsAlgorithm => (SUPPORTED_JWS_ALGORITHMS as readonly string[]).includes(alg);

/**
 * Verifies a compact JWS against the registered keys that match its header, each with exactly the
 * header's algorithm (one the key allows). Returns the verified claims and the key that verified them.
 * node:crypto with cached key objects on the usual algorithms (the device-token hot path); jose for
 * the fully-specified `Ed25519` name.
 */
export async function verifyAssertionSignature<K extends RegisteredPublicJwk>(
  assertion: string,
  header: { alg?: unknown; kid?: unknown },
  keys: readonly K[],
): Promise<{ claims: Record<string, unknown>; key: K } | null> {
  const alg = header.alg as string;
  const compact = isCompactAlgorithm(alg) ? decodeJwt(assertion) : undefined;
  for (const jwk of candidateKeys(keys, header)) {
    if (compact) {
      const key = importedKey(jwk);
      if (key && verifyJwtSignature(compact, key, alg as JwsAlgorithm)) return { claims: compact.payload, key: jwk };
      continue;
    }
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
