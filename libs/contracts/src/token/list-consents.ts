import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** At most this many consents come back: more apps than this per person would need paging. */
export const MAX_LISTED_CONSENTS = 200;

/** One app a person has consented to, as the account page shows it. */
export const ConsentSummary = z.object({
  clientId: ClientId,
  /** The client's display name, or its id when it has none (or is no longer registered). */
  clientName: z.string().min(1).max(200),
  /** Every scope the person allowed the app (consent only grows until it is withdrawn). */
  scopes: z.array(ScopeToken).max(100),
  /** When the person first allowed the app. */
  grantedAt: z.iso.datetime(),
  /** When the person last allowed it (the same, or later when the app asked for more). */
  updatedAt: z.iso.datetime(),
});
export type ConsentSummary = z.infer<typeof ConsentSummary>;

/**
 * The apps one user of one tenant has consented to, most recently allowed first. Only that user's
 * remembered consents of that tenant: the caller names the user (the gateway: the session's), never
 * anyone else's.
 */
export const ListConsents = defineRequest({
  subject: 'latchkey.token.v1.list-consents',
  request: z.object({ tenant: TenantId, userId: z.string().min(1).max(200) }),
  reply: z.object({ consents: z.array(ConsentSummary).max(MAX_LISTED_CONSENTS) }),
});
