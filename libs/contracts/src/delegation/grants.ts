import { z } from 'zod';
import { ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { Actor } from '../device/device.js';
import { Cursor, DelegateeInput, DelegationConstraints, GrantAuditRecord, GrantResource, GrantStatus, GrantView, PageLimit, Redelegation } from './grant.js';

// Errors: `not_found` (no such grant visible to the actor, or in this tenant), `forbidden` (sharing a
// resource the delegator does not own and holds no re-delegable grant for; scopes beyond what the
// delegator may do; re-delegation not allowed or too deep), `validation_failed` (window in the past,
// unknown delegatee, a delegatee who is the delegator), `conflict` (revoking or declining a grant that is
// no longer active).

/**
 * Adam shares: the actor (a person) is the delegator. Scopes must be within what the delegator may do
 * on the resource — for a device they own, its type's `ownerScopes`; through a re-delegable grant, that
 * grant's scopes (then `parentId` is found, not given, and the new grant cannot outlive it).
 */
export const CreateGrant = defineRequest({
  subject: 'latchkey.delegation.v1.create',
  request: z.object({
    tenant: TenantId,
    actor: Actor,
    delegatee: DelegateeInput,
    resource: GrantResource,
    scopes: z.array(ScopeToken).min(1).max(50),
    notBefore: z.iso.datetime({ offset: true }).optional(),
    expiresAt: z.iso.datetime({ offset: true }),
    constraints: DelegationConstraints.optional(),
    redelegation: Redelegation.optional(),
  }),
  reply: z.object({ grant: GrantView }),
});

/** A person's grants as delegator (what I shared) or as delegatee (what was shared with me), newest first. */
export const ListGrants = defineRequest({
  subject: 'latchkey.delegation.v1.list',
  request: z.object({
    tenant: TenantId,
    role: z.enum(['delegator', 'delegatee']),
    /** The person (or, as delegatee, the app) whose grants are listed. */
    party: z.object({ type: z.enum(['user', 'client']), id: z.string().min(1).max(200) }),
    status: GrantStatus.optional(),
    resource: GrantResource.optional(),
    limit: PageLimit,
    cursor: Cursor.optional(),
  }),
  reply: z.object({ items: z.array(GrantView), nextCursor: z.string().nullable() }),
});

/** One grant with its audit trail; visible to its delegator, its delegatee, and an admin (`admin: true`). */
export const GetGrant = defineRequest({
  subject: 'latchkey.delegation.v1.get',
  request: z.object({ tenant: TenantId, grantId: z.uuid(), actor: Actor, admin: z.boolean().default(false) }),
  reply: z.object({ grant: GrantView, audit: z.array(GrantAuditRecord) }),
});

/** By its delegator (or an admin): ends the grant and every grant re-delegated from it. */
export const RevokeGrant = defineRequest({
  subject: 'latchkey.delegation.v1.revoke',
  request: z.object({ tenant: TenantId, grantId: z.uuid(), actor: Actor, admin: z.boolean().default(false), reason: z.string().max(500).optional() }),
  reply: z.object({ grant: GrantView, alsoRevoked: z.array(z.uuid()) }),
});

/** By its delegatee: "no, thanks" (and the grants re-delegated from it end too). */
export const DeclineGrant = defineRequest({
  subject: 'latchkey.delegation.v1.decline',
  request: z.object({ tenant: TenantId, grantId: z.uuid(), actor: Actor, reason: z.string().max(500).optional() }),
  reply: z.object({ grant: GrantView }),
});

/** What a delegated token may carry: the grant and the scopes it allows now. */
export const UsableGrant = z.object({
  grant: GrantView,
  /** The requested scopes within the grant's (all of the grant's when none were requested). */
  scopes: z.array(ScopeToken),
  /** The delegatee chain from the original delegator's grant down to this one, for nested `act` (RFC 8693 §4.1). */
  actors: z.array(z.object({ type: z.enum(['user', 'client']), id: z.string() })),
});
export type UsableGrant = z.infer<typeof UsableGrant>;

/**
 * For RFC 8693 token exchange: the delegatee's usable grant for a resource (and, when given, from a
 * delegator), checked now — status, validity window, time constraints, scopes — and one use counted
 * (`maxUses`). `not_found` when there is none; `invalid_scope` when every requested scope is outside
 * it; `forbidden` when the grant exists but its constraints refuse now (the reason says which).
 */
export const UseGrant = defineRequest({
  subject: 'latchkey.delegation.v1.use',
  request: z.object({
    tenant: TenantId,
    delegatee: z.object({ type: z.enum(['user', 'client']), id: z.string().min(1).max(200) }),
    resource: GrantResource.optional(),
    delegatorId: z.string().min(1).max(200).optional(),
    grantId: z.uuid().optional(),
    scopes: z.array(ScopeToken).max(50).default([]),
  }),
  reply: UsableGrant,
});

/** For userinfo's `delegations` claim: every grant the person may use now, one use counted on each. */
export const UseAllGrants = defineRequest({
  subject: 'latchkey.delegation.v1.use-all',
  request: z.object({ tenant: TenantId, delegatee: z.object({ type: z.enum(['user', 'client']), id: z.string().min(1).max(200) }) }),
  reply: z.object({ grants: z.array(UsableGrant) }),
});

/** At use (the gateway's guard, a resource server): is the grant of a delegated token still usable right now? */
export const CheckGrant = defineRequest({
  subject: 'latchkey.delegation.v1.check',
  request: z.object({ tenant: TenantId, grantId: z.uuid() }),
  reply: z.discriminatedUnion('usable', [z.object({ usable: z.literal(true), grant: GrantView }), z.object({ usable: z.literal(false), reason: z.string() })]),
});
