import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { Actor } from '../device/device.js';
import { DecisionInput, DecisionResult } from './decision.js';

// Errors: `invalid_request` (input outside these schemas), `tenant_not_found` (a tenant the policy
// service does not know), `validation_failed` (a bundle or data that failed to load or to pass the smoke
// evaluation: the message says why, and the active policy stays), `conflict` (two activations for the
// same tenant at the same moment: retry).

/** Decides one `{ subject, action, resource, context }` with the tenant's active policy. */
export const Decide = defineRequest({
  subject: 'latchkey.policy.v1.decide',
  request: DecisionInput.extend({ tenant: TenantId }),
  reply: DecisionResult,
});

export const MAX_BATCH_DECISIONS = 100;

/** Up to 100 decisions of one tenant in one round trip; `results[i]` answers `decisions[i]`. */
export const DecideBatch = defineRequest({
  subject: 'latchkey.policy.v1.decide-batch',
  request: z.object({ tenant: TenantId, decisions: z.array(DecisionInput).min(1).max(MAX_BATCH_DECISIONS) }),
  reply: z.object({ results: z.array(DecisionResult) }),
});

const Timestamp = z.iso.datetime({ offset: true });

/**
 * Policy data: the JSON document the policy reads as `data` (role definitions, role bindings, device
 * types, scope restrictions… see policies/README.md). At most 256 KiB of JSON; `latchkey` is reserved
 * (the policy's own rules live there).
 */
export const PolicyData = z
  .record(z.string(), z.unknown())
  .refine((data) => !('latchkey' in data), 'the top-level key "latchkey" is reserved for the policy\'s rules')
  .refine((data) => JSON.stringify(data).length <= 256 * 1024, 'policy data is limited to 256 KiB of JSON');
export type PolicyData = z.infer<typeof PolicyData>;

/**
 * Which policy a tenant runs. The bundle is the built-in default, the tenants file's `policy.bundleFile`,
 * or the last one activated through the admin API (version ≥ 1); the data is the bundle's `data.json`,
 * merged with the tenants file's `policy.data`, merged with the admin API's overlay (version ≥ 1).
 * `policyVersion` names what decides: `b<bundle version>.d<data version>@<bundle digest>.<data digest>`
 * (8 hex digits of each SHA-256), e.g. `b0.d0@fe0bf416.1c9a20e7` for the default with no admin change.
 */
export const PolicyStatus = z.object({
  tenant: TenantId,
  policyVersion: z.string(),
  bundle: z.object({
    source: z.enum(['default', 'tenant']),
    origin: z.enum(['built-in', 'tenants-file', 'admin-api']),
    /** 0 unless activated through the admin API. */
    version: z.number().int().nonnegative(),
    /** SHA-256 (hex) of the bundle archive. */
    digest: z.string(),
    activatedAt: Timestamp.nullable(),
    activatedBy: Actor.nullable(),
  }),
  data: z.object({
    version: z.number().int().nonnegative(),
    activatedAt: Timestamp.nullable(),
    activatedBy: Actor.nullable(),
  }),
  /** The latest activation that was refused, and why (the policy above kept serving). */
  lastRejected: z.object({ at: Timestamp, actor: Actor, kind: z.enum(['bundle', 'data']), error: z.string() }).nullable(),
});
export type PolicyStatus = z.infer<typeof PolicyStatus>;

export const GetPolicyStatus = defineRequest({
  subject: 'latchkey.policy.v1.status',
  request: z.object({ tenant: TenantId }),
  reply: PolicyStatus,
});

/** A bundle as `opa build -t wasm -e latchkey/authz/decision` writes it (tar.gz), base64: at most ~700 KiB. */
export const PolicyBundleBase64 = z
  .string()
  .min(4)
  .max(960_000)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'a bundle is the base64 of an `opa build -t wasm` tar.gz');

/**
 * Replaces a tenant's policy: a new compiled bundle (`bundle`), back to the default (`useDefault`),
 * and/or a whole new data overlay (`data`, replacing the previous overlay). The candidate is loaded and
 * evaluated once (a smoke decision) before it replaces the active policy; any failure is
 * `validation_failed` with the reason, and the active policy keeps serving. Every replica switches
 * without a restart.
 */
export const ActivatePolicyBundle = defineRequest({
  subject: 'latchkey.policy.v1.activate-bundle',
  request: z
    .object({
      tenant: TenantId,
      actor: Actor,
      bundle: PolicyBundleBase64.optional(),
      useDefault: z.literal(true).optional(),
      data: PolicyData.optional(),
      reason: z.string().max(500).optional(),
    })
    .refine((r) => r.bundle !== undefined || r.useDefault !== undefined || r.data !== undefined, 'give a bundle, useDefault or data')
    .refine((r) => !(r.bundle !== undefined && r.useDefault !== undefined), 'give either a bundle or useDefault'),
  reply: PolicyStatus,
});

/**
 * Changes a tenant's data overlay by a JSON merge patch (RFC 7396: `null` removes a key). The overlay
 * is itself merged over the bundle's and the tenants file's data, so a `null` it keeps also removes
 * that key from them. Validated like an activation.
 */
export const UpdatePolicyData = defineRequest({
  subject: 'latchkey.policy.v1.update-data',
  request: z.object({ tenant: TenantId, actor: Actor, patch: PolicyData, reason: z.string().max(500).optional() }),
  reply: PolicyStatus,
});
