import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** Whether the user has already consented to these scopes for this client (so the consent page may be skipped). */
export const CheckConsent = defineRequest({
  subject: 'latchkey.token.v1.check-consent',
  request: z.object({ tenant: TenantId, clientId: ClientId, userId: z.string().min(1).max(200), scopes: z.array(ScopeToken).max(100) }),
  reply: z.object({ granted: z.boolean(), missing: z.array(z.string()) }),
});
