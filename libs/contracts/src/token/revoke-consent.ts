import { z } from 'zod';
import { ClientId, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/**
 * Withdraws a user's consent to a client. The refresh-token families of that user and client are
 * revoked with it (and the access tokens issued from them), so the client loses offline access at once.
 */
export const RevokeConsent = defineRequest({
  subject: 'latchkey.token.v1.revoke-consent',
  request: z.object({ tenant: TenantId, clientId: ClientId, userId: z.string().min(1).max(200) }),
  reply: z.object({ revoked: z.boolean(), refreshFamiliesRevoked: z.number().int().nonnegative() }),
});
