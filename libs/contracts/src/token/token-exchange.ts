import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** RFC 8693 §2.1 `grant_type`. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type identifiers Latchkey accepts and issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/**
 * RFC 8693 §2.1 request parameters. `subject_token` is the caller's own access token (Bianca's): the
 * result acts for the grant's delegator (`sub` = Adam, `act.sub` = Bianca). With `actor_token` (an app
 * acting with its own client-credentials token), `subject_token` names the person the app acts for, and
 * a grant from that person to the app is required. `resource` (RFC 8707) / `audience` name the shared
 * resource (`device:lock-1`, or `*`); at most one value each is accepted.
 */
export const TokenExchangeParameters = z.object({
  subject_token: z.string().min(1).max(8192),
  subject_token_type: z.string().min(1).max(200),
  actor_token: z.string().min(1).max(8192).optional(),
  actor_token_type: z.string().min(1).max(200).optional(),
  requested_token_type: z.string().min(1).max(200).optional(),
  resource: z.string().min(1).max(2048).optional(),
  audience: z.string().min(1).max(2048).optional(),
  scope: z.string().max(4096).optional(),
});

/** The `delegations` claim of userinfo, keyed by the delegator's username (seed: "Delegated Tokens: OpenID Connect"). */
export const DelegatedTokenEntry = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
  scope: z.array(ScopeToken),
  /** What the token is for (its `aud`): `device:<serial>` or the issuer for `*`. */
  resource: z.string(),
  grant_id: z.uuid(),
});
export type DelegatedTokenEntry = z.infer<typeof DelegatedTokenEntry>;

/**
 * Userinfo with the `delegations` scope: one short-lived delegated access token per usable grant whose
 * delegatee is the user, issued to the client that called userinfo. Keyed by the delegator's username;
 * a second grant of the same delegator is keyed `<username>#<n>` (n = 2, 3, … by grant age).
 */
export const IssueDelegatedTokens = defineRequest({
  subject: 'latchkey.token.v1.issue-delegated-tokens',
  request: z.object({ tenant: TenantId, userId: z.string().min(1).max(200), clientId: ClientId }),
  reply: z.object({ delegations: z.record(z.string(), DelegatedTokenEntry) }),
});
