import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { Actor, Cursor, PageLimit } from '../device/device.js';

/**
 * What a grant shares: `device:<serial>` (one device of the delegator; the serial never changes and is
 * never reused, ADR 0019) or `*` ("my account": the scopes the tenant lets people share of their own
 * account). A resource is also the access token's `aud` (RFC 8707: `device:lock-1` is an absolute URI).
 */
export const GrantResource = z
  .string()
  .min(1)
  .max(210)
  .regex(/^(\*|device:[\x21-\x7E]{1,200})$/, 'a resource is "*" or "device:<serial>"');
export type GrantResource = z.infer<typeof GrantResource>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is HH:MM (24 h)');

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * ABAC constraints checked at issuance of every delegated token and again at its use. Windows are in
 * the grant's IANA time zone; a time-of-day window whose `to` is before its `from` crosses midnight
 * (`22:00`–`06:00`); `to` is exclusive. `maxUses` counts delegated tokens issued under the grant.
 */
export const DelegationConstraints = z
  .object({
    timeZone: z.string().min(1).max(64).refine(isTimeZone, 'an IANA time zone such as Europe/Zurich'),
    weekdays: z.array(Weekday).min(1).max(7).optional(),
    timeOfDay: z.object({ from: ClockTime, to: ClockTime }).refine((window) => window.from !== window.to, 'an empty time window').optional(),
    maxUses: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type DelegationConstraints = z.infer<typeof DelegationConstraints>;

/** Who receives the grant: a person (by user id or username) or an app (client id, app-to-app delegation). */
export const DelegateeInput = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('user'), id: z.string().min(1).max(200).optional(), username: z.string().min(1).max(200).optional() })
    .refine((user) => (user.id === undefined) !== (user.username === undefined), 'give exactly one of id and username'),
  z.object({ type: z.literal('client'), id: ClientId }),
]);
export type DelegateeInput = z.input<typeof DelegateeInput>;

/** A resolved delegatee. `name` is the username (people) or the client id (apps), for display. */
export const Delegatee = z.object({ type: z.enum(['user', 'client']), id: z.string(), name: z.string() });
export type Delegatee = z.infer<typeof Delegatee>;

export const GRANT_STATUSES = ['active', 'revoked', 'declined', 'expired'] as const;
export const GrantStatus = z.enum(GRANT_STATUSES);
export type GrantStatus = z.infer<typeof GrantStatus>;

export const Redelegation = z.object({
  allowed: z.boolean().default(false),
  /** How many further hops below this grant (1 when re-delegation is allowed and nothing is said); a child's is at most its parent's minus one. */
  maxDepth: z.number().int().min(0).max(5).optional(),
});

const Timestamp = z.iso.datetime({ offset: true });

export const GrantView = z.object({
  id: z.uuid(),
  tenant: TenantId,
  delegator: z.object({ id: z.string(), name: z.string() }),
  /**
   * The person at the top of the chain: the delegator of a direct grant, the original owner's id for a
   * re-delegated one. Delegated tokens act for them (`sub`), whoever passed the grant on.
   */
  rootDelegatorId: z.string(),
  delegatee: Delegatee,
  resource: z.string(),
  scopes: z.array(ScopeToken),
  notBefore: Timestamp,
  expiresAt: Timestamp,
  constraints: DelegationConstraints.nullable(),
  redelegation: z.object({ allowed: z.boolean(), maxDepth: z.number().int() }),
  /** 0 for a grant by the resource's owner, n for the n-th re-delegation. */
  depth: z.number().int().nonnegative(),
  parentId: z.uuid().nullable(),
  status: GrantStatus,
  uses: z.number().int().nonnegative(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** When it stopped being active (revoked, declined, expired), by whom and why. */
  endedAt: Timestamp.nullable(),
  endedBy: Actor.nullable(),
  reason: z.string().nullable(),
});
export type GrantView = z.infer<typeof GrantView>;

export const GrantAuditRecord = z.object({
  id: z.string(),
  grantId: z.uuid(),
  event: z.enum(['granted', 'revoked', 'declined', 'expired', 'used']),
  actor: Actor,
  at: Timestamp,
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type GrantAuditRecord = z.infer<typeof GrantAuditRecord>;

export { Cursor, PageLimit };
