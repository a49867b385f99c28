import { z } from 'zod';
import { ClientId, ScopeToken } from '../common.js';

/** OpenID Connect Core §3.1.2.1 `prompt` values. */
export const PROMPT_VALUES = ['none', 'login', 'consent', 'select_account'] as const;
export const PromptValue = z.enum(PROMPT_VALUES);

/**
 * A validated authorization request as the login and consent pages need it. Secrets of the request
 * (PKCE challenge, nonce) stay in the token service.
 */
export const AuthorizationInteraction = z.object({
  interactionId: z.string().min(1).max(200),
  clientId: ClientId,
  /** The client's display name, or its id when it has none. */
  clientName: z.string(),
  scopes: z.array(ScopeToken),
  prompt: z.array(PromptValue),
  /** Seconds; the end-user must have authenticated at most this long ago (OIDC Core §3.1.2.1). */
  maxAge: z.number().int().nonnegative().optional(),
  acrValues: z.array(z.string()).optional(),
  loginHint: z.string().optional(),
  uiLocales: z.array(z.string()).optional(),
  /** Where the user will be sent back to (already validated against the client's registration). */
  redirectUri: z.string(),
  expiresAt: z.iso.datetime(),
});
export type AuthorizationInteraction = z.infer<typeof AuthorizationInteraction>;
