import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineEvent, defineRequest } from '../contract.js';
import { ClientAuthentication } from './client-authentication.js';
import { TokenTypeHint } from './introspect-token.js';

/** `POST /t/{tenant}/oauth2/revoke` (RFC 7009). An unknown or already invalid token is not an error. */
export const RevokeToken = defineRequest({
  subject: 'latchkey.token.v1.revoke',
  request: z.object({
    tenant: TenantId,
    client: ClientAuthentication,
    token: z.string().min(1).max(8192),
    tokenTypeHint: TokenTypeHint,
  }),
  reply: z.object({ revoked: z.boolean() }),
});

/** Published once a token is revoked, so caches and guards drop it at once. */
export const TokenRevoked = defineEvent({
  subject: 'latchkey.events.token.revoked',
  payload: z.object({
    tenant: TenantId,
    jti: z.string(),
    expiresAt: z.iso.datetime(),
  }),
});
