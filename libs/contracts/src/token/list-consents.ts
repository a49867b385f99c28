import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** At most this many apps come back: more apps than this per person would need paging. */
export const MAX_LISTED_CONSENTS = 200;

/**
 * One app that holds access on a person's behalf, as the account page shows it: through a remembered
 * consent (the person's Allow on the consent page of the authorization-code flow), through live refresh
 * tokens (`offline_access`, from either the authorization-code or the device grant), or both.
 */
export const ConsentSummary = z
  .object({
    clientId: ClientId,
    /** The client's display name, or its id when it has none (or is no longer registered). */
    clientName: z.string().min(1).max(200),
    /**
     * Every scope the app holds: those the person allowed it on the consent page (consent only grows
     * until it is withdrawn), then those of its live refresh tokens that the consent does not name.
     */
    scopes: z.array(ScopeToken).max(100),
    /** When the app first got the access it still holds (the earlier of the consent and its oldest live refresh token). */
    grantedAt: z.iso.datetime(),
    /** When the person last allowed it (the same, or later when the app asked for more or was paired again). */
    updatedAt: z.iso.datetime(),
    /** A remembered consent exists. */
    rememberedConsent: z.boolean(),
    /** The app holds live (unrevoked, unexpired) refresh tokens of the person: it keeps access while they are away. */
    offlineAccess: z.boolean(),
  })
  .refine((app) => app.rememberedConsent || app.offlineAccess, 'an app with neither a remembered consent nor refresh tokens holds no access');
export type ConsentSummary = z.infer<typeof ConsentSummary>;

/**
 * The apps that hold access on behalf of one user of one tenant, most recently allowed first: the
 * union, per client, of that user's remembered consents and live refresh-token families at that tenant.
 * Only that user's: the caller names the user (the gateway: the session's), never anyone else's.
 * `revoke-consent` withdraws an entry entirely (consent and refresh-token families).
 */
export const ListConsents = defineRequest({
  subject: 'latchkey.token.v1.list-consents',
  request: z.object({ tenant: TenantId, userId: z.string().min(1).max(200) }),
  reply: z.object({ consents: z.array(ConsentSummary).max(MAX_LISTED_CONSENTS) }),
});
