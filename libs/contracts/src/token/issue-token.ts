import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { ClientAuthentication } from './client-authentication.js';

/** Form parameters of a token request other than client authentication, one value each (RFC 6749 §3.2). */
export const TokenRequestParameters = z.record(z.string().max(100), z.string().max(8192));

/** RFC 6749 §5.1 successful response. */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
  scope: z.string().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
  issued_token_type: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** `POST /t/{tenant}/oauth2/token`: one grant, looked up by `grantType` in the token service. */
export const IssueToken = defineRequest({
  subject: 'latchkey.token.v1.issue',
  request: z.object({
    tenant: TenantId,
    grantType: z.string().min(1).max(200),
    client: ClientAuthentication,
    parameters: TokenRequestParameters,
  }),
  reply: TokenResponse,
});

/** RFC 6749 §4.4.2 parameters of the client-credentials grant. */
export const ClientCredentialsParameters = z.object({
  scope: z.string().max(4096).optional(),
  /** RFC 8707 resource indicator; one value accepted for now. */
  resource: z.string().url().max(2048).optional(),
});

/** RFC 6749 §4.1.3 + RFC 7636 §4.5 parameters of the authorization-code grant. */
export const AuthorizationCodeParameters = z.object({
  code: z.string().min(1).max(512),
  redirect_uri: z.string().max(2048).optional(),
  code_verifier: z.string().max(512).optional(),
});

/** RFC 6749 §6 parameters of the refresh-token grant. */
export const RefreshTokenParameters = z.object({
  refresh_token: z.string().min(1).max(512),
  scope: z.string().max(4096).optional(),
});
