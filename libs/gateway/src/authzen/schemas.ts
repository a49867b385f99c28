import { z } from 'zod';

// OpenID AuthZEN Authorization API 1.0, the Access Evaluation and Access Evaluations APIs: the request
// and response members as the specification names them. Unknown members are ignored (the API may be
// augmented); what Latchkey's policy reads is said in each description.

/** A JSON object of properties (a new schema each time: each use is described where it is). */
const properties = () => z.record(z.string(), z.unknown());

export const AuthzenSubject = z.object({
  type: z.string().min(1).max(50).describe('`user`, `client` (an app) or `device`'),
  id: z.string().min(1).max(300).describe('The user id (the `sub` of their tokens), the client id, or the device id'),
  properties: properties().optional().describe(
    '`roles` (list) and `scopes` (list, or space-separated) go to the policy as they are; `act` (RFC 8693 actor chain) with `gid` (grant id) make a delegated subject, whose grant is checked now; `ip_address` is the context’s `ip`; anything else is an attribute (e.g. `sites`, `deviceType`). What the platform knows (a person’s roles and attributes, an app’s roles, a device’s type and site) is added and wins over a property of the same name.',
  ),
});

export const AuthzenAction = z.object({
  name: z.string().min(1).max(100).describe('A policy action, e.g. `devices.suspend`, `device.command.unlock`, `device.telemetry.publish`'),
  properties: properties().optional().describe('Not read by the policy'),
});

export const AuthzenResource = z.object({
  type: z.string().min(1).max(50).describe('`device`, `tenant` or `scope`'),
  id: z.string().min(1).max(300).describe('A device id or serial (`*`: every device of the tenant), the tenant id, or a scope'),
  properties: properties().optional().describe('Attributes of the resource; for a known device the registry’s values win'),
});

export const AuthzenContext = properties().describe('`time` (RFC 3339 with offset: decide as of then), `ip` or `ip_address`; anything else is a context attribute');

/** Access Evaluation request: one `{ subject, action, resource, context? }`. */
export const EvaluationRequest = z.object({
  subject: AuthzenSubject,
  action: AuthzenAction,
  resource: AuthzenResource,
  context: AuthzenContext.optional(),
});
export type EvaluationRequest = z.infer<typeof EvaluationRequest>;

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

export const MAX_EVALUATIONS = 100;

/** One entry of `evaluations`: each member present overrides the request's top-level default. */
export const EvaluationItem = z.object({
  subject: AuthzenSubject.optional(),
  action: AuthzenAction.optional(),
  resource: AuthzenResource.optional(),
  context: AuthzenContext.optional(),
});
export type EvaluationItem = z.infer<typeof EvaluationItem>;

/** Access Evaluations request: top-level defaults, `evaluations` (at most 100) and `options`. */
export const EvaluationsRequest = z.object({
  subject: AuthzenSubject.optional(),
  action: AuthzenAction.optional(),
  resource: AuthzenResource.optional(),
  context: AuthzenContext.optional(),
  evaluations: z.array(EvaluationItem).max(MAX_EVALUATIONS).optional().describe('Without it (or empty) the request is a single evaluation and the answer is `{ decision }`'),
  options: z
    .object({ evaluations_semantic: z.enum(EVALUATIONS_SEMANTICS).optional().describe('Default `execute_all`; the short-circuiting ones answer up to the first denial / permit') })
    .catchall(z.unknown())
    .optional(),
});
export type EvaluationsRequest = z.infer<typeof EvaluationsRequest>;

export const EvaluationResponse = z.object({
  decision: z.boolean(),
  context: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('On a denial `{ id, reason_admin: { en } }` with the policy’s reasons (for administrators, not end users); on an evaluation that could not be made `{ error: { status, message } }`'),
});
export type EvaluationResponse = z.infer<typeof EvaluationResponse>;

export const EvaluationsResponse = z.object({ evaluations: z.array(EvaluationResponse) });
export type EvaluationsResponse = z.infer<typeof EvaluationsResponse>;

/** The PDP metadata document (`/.well-known/authzen-configuration`). */
export interface AuthzenConfiguration {
  policy_decision_point: string;
  access_evaluation_endpoint: string;
  access_evaluations_endpoint: string;
}

export function authzenConfiguration(issuer: string): AuthzenConfiguration {
  return {
    policy_decision_point: issuer,
    access_evaluation_endpoint: `${issuer}/access/v1/evaluation`,
    access_evaluations_endpoint: `${issuer}/access/v1/evaluations`,
  };
}
