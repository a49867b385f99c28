import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** The authenticated end-user, as the identity service's session describes them. */
export const AuthenticatedSubject = z.object({
  userId: z.string().min(1).max(200),
  /** When the user last authenticated (epoch seconds), OIDC Core `auth_time`. */
  authTime: z.number().int().nonnegative(),
  /** Authentication methods references (RFC 8176), e.g. ["pwd", "otp"]. */
  amr: z.array(z.string().min(1).max(50)).max(20),
  acr: z.string().min(1).max(200),
  sessionId: z.string().min(1).max(200),
});
export type AuthenticatedSubject = z.infer<typeof AuthenticatedSubject>;

/**
 * Errors the gateway may end an interaction with instead of an approval: the user refused
 * (`access_denied`, RFC 6749 §4.1.2.1), or `prompt=none` could not be honoured (OIDC Core §3.1.2.6).
 */
export const AUTHORIZATION_DENIAL_ERRORS = ['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required'] as const;

/**
 * Ends an interaction (single use): `approve` records consent when `remember` and issues an
 * authorization code; `deny` sends the error back. The reply's `location` is the client's validated
 * redirect URI with `code`/`error`, `state` and `iss` (RFC 9207) — the gateway redirects there (303).
 * Fails with `not_found` for an unknown, expired or already completed interaction, and with
 * `invalid_request` when the subject authenticated before the request began and that authentication
 * does not satisfy `max_age` or `prompt=login` / `prompt=select_account` (an authentication during
 * the request always does).
 */
export const CompleteAuthorization = defineRequest({
  subject: 'latchkey.token.v1.complete-authorization',
  request: z.object({
    tenant: TenantId,
    interactionId: z.string().min(1).max(200),
    decision: z.enum(['approve', 'deny']),
    /** Required for `approve`. */
    subject: AuthenticatedSubject.optional(),
    remember: z.boolean().default(false),
    /** With `deny`: which error to return; `access_denied` when absent. */
    error: z.enum(AUTHORIZATION_DENIAL_ERRORS).optional(),
  }),
  reply: z.object({ location: z.string() }),
});
