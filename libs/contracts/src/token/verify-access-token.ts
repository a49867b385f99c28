import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** The claims of a valid RFC 9068 access token of the tenant. */
export const AccessTokenClaims = z.object({
  iss: z.string(),
  sub: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  client_id: z.string(),
  scope: z.string().optional(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string(),
  tenant: z.string(),
  /** Device tokens (client_credentials of a device, client_id = sub = device id): the device's type. */
  device_type: z.string().optional(),
  /** Device tokens: the user id of the device's owner, when it has one. */
  owner: z.string().optional(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaims>;

/**
 * Checks a bearer access token for the gateway (userinfo, the shared token guard): signature, issuer,
 * tenant, expiry and revocation. No client authentication: the caller is the platform itself.
 */
export const VerifyAccessToken = defineRequest({
  subject: 'latchkey.token.v1.verify-access-token',
  request: z.object({ tenant: TenantId, token: z.string().min(1).max(8192) }),
  reply: z.discriminatedUnion('active', [z.object({ active: z.literal(true), claims: AccessTokenClaims }), z.object({ active: z.literal(false) })]),
});
