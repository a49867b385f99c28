// CONTRACT BOUNDARY, NOT THE POLICY. The token service's integration tests start only the token module
// (a service lib may not import another service's lib, not even in tests: docs/adr/0006), so the policy
// service is stood in for by this small responder on the test cluster's NATS. It answers `DecideBatch`
// as libs/contracts/src/policy describes it, for the action `token.scope` only, with a tiny rule set
// modelled on policies/README.md: scopes restricted to roles (per subject type), device types that bind
// roles, a delegated subject needing its grant in the context. It records what it was asked. The real
// decision point, with the real default policy, is proven end to end by
// tests/e2e/token-scope-policy.e2e.spec.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { DecideBatch, type DecisionResult, type ParsedRequestOf, type ReplyOf } from '@latchkey/contracts';
import { Handles, type TransportConfig } from '@latchkey/messaging';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { startStandIn } from './stand-in-service.js';

type Decision = ParsedRequestOf<typeof DecideBatch>['decisions'][number];

export interface StandInPolicyRules {
  /** As policies/data.json `scopes`: a scope only subjects with one of `roles` may hold (of `subjectTypes`, else of every type). */
  restricted: Record<string, { subjectTypes?: string[]; roles: string[] }>;
  /** As policies/data.json `deviceTypes`: roles a device has by its `deviceType` attribute. */
  deviceTypes: Record<string, string[]>;
  /** Scopes nobody may hold. */
  denied: string[];
  /** `ttlSeconds` of an allow for a subject that is not delegated (0: none). */
  ttlSeconds: number;
  /** How long every answer takes (a slow decision point). */
  replyDelayMs: number;
}

export const permissiveRules = (): StandInPolicyRules => ({ restricted: {}, deviceTypes: {}, denied: [], ttlSeconds: 60, replyDelayMs: 0 });

/** What the stand-in decides with and what it was asked. */
export class StandInPolicyState {
  readonly batches: ParsedRequestOf<typeof DecideBatch>[] = [];
  policyVersion = 'b0.d0@stand-in';

  constructor(public rules: StandInPolicyRules = permissiveRules()) {}

  /** Every decision asked so far, flattened. */
  decisions(): Decision[] {
    return this.batches.flatMap((batch) => batch.decisions);
  }
}

/** The tiny rule set: `token.scope` only; every denial says why, as the real policy's reasons do. */
export function standInDecision(rules: StandInPolicyRules, decision: Decision, policyVersion: string): DecisionResult {
  const deny = (reason: string): DecisionResult => ({ allow: false, reasons: [reason], policyVersion });
  const { subject, action, resource, context } = decision;
  if (action.name !== 'token.scope') return deny(`unknown_action: ${action.name} is not an action of the stand-in`);
  if (resource.type !== 'scope') return deny('resource_type_mismatch: token.scope applies to resources of type scope');
  const scope = resource.id;
  if (rules.denied.includes(scope)) return deny(`scope_denied: nobody may hold ${scope}`);
  const delegated = subject.act !== undefined || subject.gid !== undefined;
  if (delegated) {
    const grant = context.grant;
    if (!grant) return deny('grant_missing: a delegated subject needs its delegation grant in context.grant');
    if (grant.id !== subject.gid) return deny('grant_mismatch: the grant is not the one the token was issued under');
    if (grant.delegatee !== subject.act?.sub) return deny('grant_delegatee_mismatch: the acting party is not the grant\'s delegatee');
    if (!grant.scopes.includes(scope)) return deny(`grant_scope_missing: the grant does not include scope ${scope}`);
  }
  const roles = new Set([...(subject.roles ?? []), ...(subject.type === 'device' ? (rules.deviceTypes[String(subject.attributes?.deviceType)] ?? []) : [])]);
  const restriction = rules.restricted[scope];
  if (restriction && (restriction.subjectTypes === undefined || restriction.subjectTypes.includes(subject.type)) && !restriction.roles.some((role) => roles.has(role))) {
    return deny(`scope_restricted: no role of the subject may hold scope ${scope}`);
  }
  return { allow: true, reasons: ['stand-in: allowed'], policyVersion, ...(!delegated && rules.ttlSeconds > 0 ? { ttlSeconds: rules.ttlSeconds } : {}) };
}

const STATE = Symbol('STAND_IN_POLICY_STATE');

@Controller()
class StandInPolicyService {
  constructor(@Inject(STATE) private readonly state: StandInPolicyState) {}

  @Handles(DecideBatch)
  async decideBatch(request: ParsedRequestOf<typeof DecideBatch>): Promise<ReplyOf<typeof DecideBatch>> {
    this.state.batches.push(request);
    if (this.state.rules.replyDelayMs > 0) await sleep(this.state.rules.replyDelayMs);
    return { results: request.decisions.map((decision) => standInDecision(this.state.rules, decision, this.state.policyVersion)) };
  }
}

/** Starts the stand-in in the `policy` queue group of the cluster's NATS; close it to stop answering. */
export function startStandInPolicy(transport: TransportConfig, state: StandInPolicyState): Promise<INestMicroservice> {
  return startStandIn(transport, 'policy', StandInPolicyService, [{ provide: STATE, useValue: state }]);
}
