import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineEvent } from '../contract.js';
import { Actor } from '../device/device.js';

/** Every delegation event; `eventId` is the JetStream message id (outbox, ADR 0016). */
export const DelegationEventPayload = z.object({
  eventId: z.uuid(),
  tenant: TenantId,
  grantId: z.uuid(),
  parentId: z.uuid().nullable(),
  delegatorId: z.string(),
  delegatee: z.object({ type: z.enum(['user', 'client']), id: z.string() }),
  resource: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.iso.datetime({ offset: true }),
  actor: Actor,
  at: z.iso.datetime({ offset: true }),
  reason: z.string().nullable(),
});
export type DelegationEventPayload = z.infer<typeof DelegationEventPayload>;

export const DelegationGranted = defineEvent({ subject: 'latchkey.events.delegation.granted', payload: DelegationEventPayload });
export const DelegationRevoked = defineEvent({ subject: 'latchkey.events.delegation.revoked', payload: DelegationEventPayload });
export const DelegationExpired = defineEvent({ subject: 'latchkey.events.delegation.expired', payload: DelegationEventPayload });
export const DelegationDeclined = defineEvent({ subject: 'latchkey.events.delegation.declined', payload: DelegationEventPayload });

export const DELEGATION_EVENTS = { granted: DelegationGranted, revoked: DelegationRevoked, expired: DelegationExpired, declined: DelegationDeclined } as const;

/** After these, no token issued under the grant may work. */
export const GRANT_ENDING_EVENTS = [DelegationRevoked, DelegationExpired, DelegationDeclined] as const;
