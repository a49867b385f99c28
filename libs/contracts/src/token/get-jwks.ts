import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** A public JWK as published (RFC 7517); private members never appear here. */
export const PublicJwk = z
  .object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') })
  .catchall(z.union([z.string(), z.array(z.string())]));
export type PublicJwk = z.infer<typeof PublicJwk>;

/** `GET /t/{tenant}/jwks`: the tenant's signing keys that may still verify a live token. */
export const GetJwks = defineRequest({
  subject: 'latchkey.token.v1.jwks',
  request: z.object({ tenant: TenantId }),
  reply: z.object({ keys: z.array(PublicJwk) }),
});
