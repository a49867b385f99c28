import { z } from 'zod';
import { ScopeToken } from '../common.js';
import { DelegationConstraints, GrantStatus } from '../delegation/grant.js';
import { ActorClaim } from '../token/verify-access-token.js';

/**
 * The action vocabulary of the default policy (policies/README.md says which route or flow asks for
 * which). A tenant's own policy may define more: any dotted lowercase name is a valid action name, and
 * the default policy denies every name it does not know.
 */
export const POLICY_ACTIONS = [
  'devices.read',
  'devices.create',
  'devices.update',
  'devices.suspend',
  /** Activating a provisioned device and reactivating a suspended one. */
  'devices.activate',
  'devices.decommission',
  /** Adding or revoking a device's credentials, issuing its claim code. */
  'devices.credentials',
  /** Bulk provisioning; the resource is the tenant (`{ type: 'tenant', id: <tenant> }`). */
  'devices.bulk',
  'device.command.unlock',
  'device.command.configure',
  'device.telemetry.publish',
  /** May this subject be given this scope? The resource is the scope: `{ type: 'scope', id: 'lock:unlock' }`. */
  'token.scope',
  /** The tenant's signing keys (docs/adr/0010): list them, rotate them; the resource is the tenant. */
  'keys.read',
  'keys.rotate',
] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Resource types of the default policy's actions. */
export const POLICY_RESOURCE_TYPES = ['device', 'tenant', 'scope'] as const;
export type PolicyResourceType = (typeof POLICY_RESOURCE_TYPES)[number];

export const PolicyActionName = z
  .string()
  .min(3)
  .max(100)
  .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'an action is a dotted lowercase name such as devices.suspend');

const AttributeName = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'attribute names use A-Z a-z 0-9 _ . : -');

/** Attributes the policy may read (JSON values); at most 50. Never a token, a secret or a password. */
export const PolicyAttributes = z.record(AttributeName, z.unknown()).refine((attributes) => Object.keys(attributes).length <= 50, 'at most 50 attributes');
export type PolicyAttributes = z.infer<typeof PolicyAttributes>;

const Timestamp = z.iso.datetime({ offset: true });

/**
 * Who asks. For a token: `sub` → `id`, the token's scopes, and for a delegated token (RFC 8693) its
 * `act` and `gid`; `id` is then the delegator, whose rights the grant narrows. `roles` are the roles the
 * subject's identity carries; the policy's data may bind more. Default-policy attributes: `sites` /
 * `site` (operators, controllers), `deviceType` (devices), `tenant`.
 */
export const DecisionSubject = z.strictObject({
  type: z.enum(['user', 'client', 'device']),
  id: z.string().min(1).max(200),
  roles: z.array(z.string().min(1).max(100)).max(50).optional(),
  attributes: PolicyAttributes.optional(),
  /** The token's scopes; when given, the action's scope must be among them. */
  scopes: z.array(ScopeToken).max(100).optional(),
  act: ActorClaim.optional(),
  gid: z.string().min(1).max(200).optional(),
});
export type DecisionSubject = z.infer<typeof DecisionSubject>;

export const DecisionAction = z.strictObject({ name: PolicyActionName });

/**
 * What is acted on. Default-policy attributes of a device are the registry's view of it: `serial`,
 * `type`, `status`, `ownerId`, `location`, `firmwareVersion`, plus `site` (else `location` is the site)
 * and `tenant`.
 */
export const DecisionResource = z.strictObject({
  type: z.string().min(1).max(50).regex(/^[a-z][a-z0-9_-]*$/, 'a resource type is a lowercase slug'),
  id: z.string().min(1).max(300),
  attributes: PolicyAttributes.optional(),
});
export type DecisionResource = z.infer<typeof DecisionResource>;

/**
 * The delegation grant a delegated token was issued under (from `delegation.v1.get`): its window,
 * resource, scopes and ABAC constraints, which the policy checks at the decision's time.
 */
export const DecisionGrant = z.strictObject({
  id: z.string().min(1).max(200),
  status: GrantStatus.optional(),
  /** The delegatee's id: must be the token's `act.sub`. */
  delegatee: z.string().min(1).max(200).optional(),
  resource: z.string().min(1).max(210),
  scopes: z.array(ScopeToken).max(50),
  notBefore: Timestamp,
  expiresAt: Timestamp,
  constraints: DelegationConstraints.nullable().optional(),
});
export type DecisionGrant = z.infer<typeof DecisionGrant>;

/** When and from where. `time` defaults to the decision point's clock; pass it to pin the decision. */
export const DecisionContext = z.strictObject({
  time: Timestamp.optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  grant: DecisionGrant.optional(),
  attributes: PolicyAttributes.optional(),
});
export type DecisionContext = z.infer<typeof DecisionContext>;

/** One question to the decision point (ARCHITECTURE flow 5): `{ subject, action, resource, context }`. */
export const DecisionInput = z.object({
  subject: DecisionSubject,
  action: DecisionAction,
  resource: DecisionResource,
  context: DecisionContext.default({}),
});
export type DecisionInput = z.input<typeof DecisionInput>;
export type ParsedDecisionInput = z.output<typeof DecisionInput>;

/**
 * The answer. Deny by default: an error while evaluating is a denial whose reason says so, never an
 * allow. `ttlSeconds`: how long the caller may reuse an *allow* for the same input (absent: ask every
 * time; denials are never cached). `obligations`: what the enforcement point must do along with an
 * allow (the default policy: `{ audit: { act } }` for a delegated subject). `policyVersion`: which
 * bundle and data decided.
 */
export const DecisionResult = z.object({
  allow: z.boolean(),
  reasons: z.array(z.string()),
  obligations: z.record(z.string(), z.unknown()).optional(),
  ttlSeconds: z.number().int().positive().optional(),
  policyVersion: z.string(),
});
export type DecisionResult = z.infer<typeof DecisionResult>;
