import { z } from 'zod';
import { ClientId } from '../common.js';

const Secret = z.string().min(1).max(1024);

/**
 * How a client proved who it is at a token-service endpoint (RFC 6749 §2.3, RFC 7523 §2.2).
 * The gateway decides the method from the HTTP request; the token service checks the proof.
 */
export const ClientAuthentication = z.discriminatedUnion('method', [
  z.object({ method: z.literal('client_secret_basic'), clientId: ClientId, clientSecret: Secret }),
  z.object({ method: z.literal('client_secret_post'), clientId: ClientId, clientSecret: Secret }),
  z.object({
    method: z.literal('private_key_jwt'),
    clientId: ClientId.optional(),
    assertion: z.string().min(1).max(8192),
  }),
  z.object({ method: z.literal('none'), clientId: ClientId }),
]);
export type ClientAuthentication = z.infer<typeof ClientAuthentication>;
export type ClientAuthenticationMethod = ClientAuthentication['method'];
export const CLIENT_AUTHENTICATION_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
