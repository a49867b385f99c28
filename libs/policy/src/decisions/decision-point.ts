import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DecisionResult, ParsedDecisionInput } from '@latchkey/contracts';
import { recordPolicyDecision } from '@latchkey/messaging';
import type { Clock } from '../clock.js';
import type { TenantPolicies } from '../tenants/tenant-policies.js';
import { describeThrown } from '../wasm/compiled-policy.js';
import { canonicalJson, sha256Digest } from './canonical-json.js';
import type { DecisionLog } from './decision-log.js';

/**
 * The policy decision point: evaluates the tenant's active policy for `{ subject, action, resource,
 * context }` and logs the decision. Deny by default: an input the policy cannot evaluate, or a policy
 * that fails or answers nonsense, gives `allow: false` with the reason, never an allow.
 */
export class DecisionPoint {
  constructor(
    private readonly policies: TenantPolicies,
    private readonly log: DecisionLog,
    private readonly clock: Clock,
  ) {}

  decide(tenant: string, input: ParsedDecisionInput): DecisionResult {
    return this.evaluate(tenant, input, new Date(this.clock()).toISOString());
  }

  /** One policy for the whole batch (the active one when the batch arrived) and one clock reading. */
  decideBatch(tenant: string, inputs: readonly ParsedDecisionInput[]): DecisionResult[] {
    const now = new Date(this.clock()).toISOString();
    return inputs.map((input) => this.evaluate(tenant, input, now));
  }

  private evaluate(tenant: string, input: ParsedDecisionInput, now: string): DecisionResult {
    const policy = this.policies.get(tenant);
    const started = performance.now();
    // The policy's input: the request's, with the tenant and the decision's time (the caller's, or now).
    const regoInput = { tenant, subject: input.subject, action: input.action, resource: input.resource, context: { ...input.context, time: input.context.time ?? now } };
    const text = canonicalJson(regoInput);
    let result: DecisionResult;
    if (!policy.instance) {
      result = { allow: false, reasons: [`policy_unavailable: ${policy.unavailable ?? 'the tenant\'s policy is not loaded'}`], policyVersion: policy.policyVersion };
    } else {
      try {
        result = { ...policy.instance.evaluate(text), policyVersion: policy.policyVersion };
      } catch (error) {
        result = { allow: false, reasons: [`policy_error: ${describeThrown(error)}`], policyVersion: policy.policyVersion };
      }
    }
    if (!result.allow) delete result.ttlSeconds;
    const latencyUs = Math.round((performance.now() - started) * 1000);
    recordPolicyDecision(result.allow, latencyUs / 1e6);
    this.log.record(tenant, {
      decisionId: randomUUID(),
      at: now,
      inputDigest: sha256Digest(text),
      subject: { type: input.subject.type, id: input.subject.id, ...(input.subject.act ? { act: input.subject.act } : {}) },
      action: input.action.name,
      resource: { type: input.resource.type, id: input.resource.id },
      allow: result.allow,
      reasons: result.reasons,
      policyVersion: result.policyVersion,
      latencyUs,
    });
    return result;
  }
}
