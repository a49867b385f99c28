import { z } from 'zod';

/** JWK members that only a private (or symmetric) key has: never accepted in a client registration. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const B64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');
const common = {
  kid: z.string().min(1).max(200).optional(),
  use: z.literal('sig').optional(),
};

/** RSA moduli shorter than 2048 bits are refused (NIST SP 800-131A; RFC 7518 §3.3 requires ≥ 2048). */
function rsaModulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  if (first === bytes.length) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!));
}

/**
 * A client's public signing key for `private_key_jwt` (RFC 7523 §2.2, RFC 7517): EC P-256 (ES256),
 * Ed25519 (EdDSA) or RSA ≥ 2048 bits (RS256, or PS256 when the key says so). Private members are
 * refused by `ClientJwks` (a plain object schema would silently strip them).
 */
export const ClientJwk = z
  .discriminatedUnion('kty', [
    z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: B64url, y: B64url, alg: z.literal('ES256').optional(), ...common }),
    z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: B64url, alg: z.enum(['EdDSA', 'Ed25519']).optional(), ...common }),
    z.object({
      kty: z.literal('RSA'),
      n: B64url.refine((n) => rsaModulusBits(n) >= 2048, 'an RSA key needs a modulus of at least 2048 bits'),
      e: B64url,
      alg: z.enum(['RS256', 'PS256']).optional(),
      ...common,
    }),
]);
export type ClientJwk = z.infer<typeof ClientJwk>;

/**
 * Private members are not in the shapes above, so plain parsing would silently strip them; this looks
 * at the raw input first and refuses the whole set instead.
 */
export const ClientJwks = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) })
  .superRefine((set, ctx) => {
    set.keys.forEach((key, index) => {
      for (const member of PRIVATE_JWK_MEMBERS) {
        if (member in key) ctx.addIssue({ code: 'custom', path: ['keys', index, member], message: 'a client JWK must be public: private key members are not accepted' });
      }
    });
  })
  .pipe(z.object({ keys: z.array(ClientJwk).min(1).max(10) }))
  .refine((set) => {
    const kids = set.keys.map((key) => key.kid).filter((kid) => kid !== undefined);
    return new Set(kids).size === kids.length;
  }, 'key ids (kid) must be unique within a client JWK Set');
export type ClientJwks = z.infer<typeof ClientJwks>;
