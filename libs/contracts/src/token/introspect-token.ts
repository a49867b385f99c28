import { z } from 'zod';
import { TenantId } from '../common.js';
import { ActorClaim } from './verify-access-token.js';
import { defineRequest } from '../contract.js';
import { ClientAuthentication } from './client-authentication.js';

export const TokenTypeHint = z.string().max(100).optional();

/** RFC 7662 §2.2 response. `active: false` carries nothing else. */
export const IntrospectionResponse = z.object({
  active: z.boolean(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  username: z.string().optional(),
  token_type: z.string().optional(),
  exp: z.number().int().optional(),
  iat: z.number().int().optional(),
  nbf: z.number().int().optional(),
  sub: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  iss: z.string().optional(),
  jti: z.string().optional(),
  tenant: z.string().optional(),
  /** Extension (RFC 7662 §2.2 allows them): a device token's device type and the device owner's user id. */
  device_type: z.string().optional(),
  owner: z.string().optional(),
  /** RFC 8693 §4.1 / §4.4 on a delegated token: the acting party and the grant. */
  act: ActorClaim.optional(),
  gid: z.string().optional(),
});
export type IntrospectionResponse = z.infer<typeof IntrospectionResponse>;

/** `POST /t/{tenant}/oauth2/introspect` (RFC 7662); the caller authenticates as a client. */
export const IntrospectToken = defineRequest({
  subject: 'latchkey.token.v1.introspect',
  request: z.object({
    tenant: TenantId,
    client: ClientAuthentication,
    token: z.string().min(1).max(8192),
    tokenTypeHint: TokenTypeHint,
  }),
  reply: IntrospectionResponse,
});
