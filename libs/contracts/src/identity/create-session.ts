import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthenticationContextClass, AuthenticationMethod } from './authentication.js';

/**
 * Opens a session after a successful sign-in. `sessionId` (256 random bits, base64url) is returned this
 * once: only its SHA-256 is stored. `acr` must be the one `amr` earns. `not_found` when the user is not
 * an active user of the tenant.
 */
export const CreateSession = defineRequest({
  subject: 'latchkey.identity.v1.create-session',
  request: z.object({
    tenant: TenantId,
    userId: z.uuid(),
    amr: z.array(AuthenticationMethod).min(1).max(4),
    acr: AuthenticationContextClass,
  }),
  reply: z.object({
    sessionId: z.string(),
    /** The absolute expiry (ISO 8601); the session also ends after the idle timeout. */
    expiresAt: z.iso.datetime(),
  }),
});
