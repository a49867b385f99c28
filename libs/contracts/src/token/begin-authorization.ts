import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthorizationInteraction } from './authorization-interaction.js';

/**
 * `GET /t/{tenant}/oauth2/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): the gateway
 * passes the query (one value per name; it refuses repeated parameters itself) and gets either an
 * interaction to drive through login and consent, or a redirect carrying an error to the client's
 * validated redirect URI (RFC 6749 §4.1.2.1, with `iss` per RFC 9207).
 *
 * Fails with a ContractError — and the gateway must then show an error page and NEVER redirect — when
 * the client is unknown (`invalid_client`) or the redirect URI is missing or not registered exactly
 * (`invalid_request`), because then there is no URI it is safe to send the user agent to.
 */
export const BeginAuthorization = defineRequest({
  subject: 'latchkey.token.v1.begin-authorization',
  request: z.object({
    tenant: TenantId,
    parameters: z.record(z.string().max(100), z.string().max(8192)),
  }),
  reply: z.discriminatedUnion('outcome', [
    AuthorizationInteraction.extend({ outcome: z.literal('interaction') }),
    z.object({ outcome: z.literal('redirect'), location: z.string() }),
  ]),
});
