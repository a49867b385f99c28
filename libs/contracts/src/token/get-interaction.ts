import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthorizationInteraction } from './authorization-interaction.js';

/** The pending authorization request behind a login or consent page; `not_found` when unknown, expired or completed. */
export const GetInteraction = defineRequest({
  subject: 'latchkey.token.v1.get-interaction',
  request: z.object({ tenant: TenantId, interactionId: z.string().min(1).max(200) }),
  reply: AuthorizationInteraction,
});
