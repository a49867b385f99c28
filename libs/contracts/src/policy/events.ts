import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineEvent } from '../contract.js';
import { Actor } from '../device/device.js';
import { ActorClaim } from '../token/verify-access-token.js';

const Timestamp = z.iso.datetime({ offset: true });

/**
 * One decision, as the decision log keeps it: the SHA-256 of the canonical input (sorted keys), who
 * asked for what and on what, the answer, the policy that gave it and how long the evaluation took.
 * Never attributes, context, tokens or secrets: the digest lets an auditor match a recorded input.
 */
export const DecisionLogEntry = z.object({
  decisionId: z.uuid(),
  at: Timestamp,
  inputDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  subject: z.object({ type: z.string(), id: z.string(), act: ActorClaim.optional() }),
  action: z.string(),
  resource: z.object({ type: z.string(), id: z.string() }),
  allow: z.boolean(),
  reasons: z.array(z.string()),
  policyVersion: z.string(),
  /** Evaluation time in the decision point, microseconds. */
  latencyUs: z.number().nonnegative(),
});
export type DecisionLogEntry = z.infer<typeof DecisionLogEntry>;

export const MAX_LOGGED_DECISIONS_PER_EVENT = 200;

/**
 * The decision log: a tenant's decisions, published in batches (at most 200, or what accumulated in a
 * few tens of milliseconds) so that logging never slows a decision down. `eventId` is the message id.
 */
export const PolicyDecisionsLogged = defineEvent({
  subject: 'latchkey.events.policy.decision',
  payload: z.object({ eventId: z.uuid(), tenant: TenantId, decisions: z.array(DecisionLogEntry).min(1).max(MAX_LOGGED_DECISIONS_PER_EVENT) }),
});

/** A tenant's policy changed (bundle, default again, or data): every replica of the policy service reloads it. */
export const PolicyActivated = defineEvent({
  subject: 'latchkey.events.policy.activated',
  payload: z.object({
    eventId: z.uuid(),
    tenant: TenantId,
    actor: Actor,
    at: Timestamp,
    kind: z.enum(['bundle', 'default', 'data']),
    policyVersion: z.string(),
    bundleVersion: z.number().int().nonnegative(),
    dataVersion: z.number().int().nonnegative(),
  }),
});
