import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** RFC 8693 §4.1 `act`: the acting party, and (nested) who it acts for in turn. */
export interface ActorClaimValue {
  sub: string;
  act?: ActorClaimValue;
}
export const ActorClaim: z.ZodType<ActorClaimValue> = z.lazy(() => z.object({ sub: z.string(), act: ActorClaim.optional() }));

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
  /** Delegated tokens (RFC 8693 §4.1): who acts for `sub`; nested for a chain of re-delegations. */
  act: ActorClaim.optional(),
  /** Delegated tokens: the delegation grant they were issued under (revoking it revokes them). */
  gid: z.string().optional(),
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
