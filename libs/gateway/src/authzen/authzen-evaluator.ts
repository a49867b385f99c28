import { ContractError, type DecisionInput, type DecisionResource, type DeviceView } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Inject, Injectable } from '@nestjs/common';
import { checkDelegation, type DelegationCheck } from '../auth/delegation-check.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../gateway.options.js';
import { HttpFailure } from '../http/http-errors.js';
import { decisionGrant, deviceAttributes } from '../policy/decision-input.js';
import { PolicyDecider } from '../policy/policy-decider.js';
import { PolicySubjects, type SubjectFacts } from '../policy/policy-subjects.js';
import { resolveDevice } from '../resources/send-command.js';
import {
  applySemantic,
  decisionInputOf,
  deniedResponse,
  errorResponse,
  type EvaluationError,
  evaluationResponse,
  type Mapped,
  type ParsedEvaluation,
  parseEvaluation,
  withDefaults,
} from './mapping.js';
import type { EvaluationRequest, EvaluationResponse, EvaluationsRequest, EvaluationsResponse } from './schemas.js';

/** Ready for the decision point, or already answered (a lookup failed, the grant is unusable). */
type Prepared = { input: DecisionInput } | { response: EvaluationResponse };

/** Each lookup once per HTTP request, however many evaluations share a subject, a device or a grant. */
class Lookups {
  private readonly pending = new Map<string, Promise<unknown>>();

  once<T>(key: string, lookup: () => Promise<T>): Promise<T> {
    let found = this.pending.get(key) as Promise<T> | undefined;
    if (!found) {
      found = lookup();
      this.pending.set(key, found);
    }
    return found;
  }
}

/**
 * The OpenID AuthZEN Access Evaluation API on the policy decision point: an evaluation is mapped to
 * the policy input (`mapping.ts`), completed with what the platform knows (a person's roles and
 * attributes, an app's roles, a device's type and site, the looked-up resource device, a delegated
 * subject's grant) and decided by `policy.v1.decide` / `decide-batch`.
 */
@Injectable()
export class AuthzenEvaluator {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(PolicySubjects) private readonly subjects: PolicySubjects,
    @Inject(PolicyDecider) private readonly decider: PolicyDecider,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  /** One evaluation. What cannot be evaluated at all is a 400; an unknown device is a denial saying so. */
  async evaluate(tenant: string, request: EvaluationRequest): Promise<EvaluationResponse> {
    const parsed = parseEvaluation(request);
    if (!parsed.ok) throw new HttpFailure(400, 'invalid_request', parsed.error.message);
    const prepared = await this.prepare(tenant, parsed.value, new Lookups());
    if ('response' in prepared) return prepared.response;
    return evaluationResponse(await this.decider.decide(tenant, prepared.input));
  }

  /**
   * Several evaluations (defaults at the top level, each entry's own members winning) in one round
   * trip to the decision point; an entry that cannot be evaluated is a denial with its error. Without
   * `evaluations` it is a single evaluation and answers `{ decision }` (AuthZEN §7.1).
   */
  async evaluateAll(tenant: string, request: EvaluationsRequest): Promise<EvaluationsResponse | EvaluationResponse> {
    const { evaluations, options, ...defaults } = request;
    if (!evaluations?.length) {
      const single = withDefaults(defaults, {});
      if (!single.ok) throw new HttpFailure(400, 'invalid_request', single.error.message);
      return this.evaluate(tenant, single.value);
    }
    const lookups = new Lookups();
    const prepared = await Promise.all(
      evaluations.map(async (item): Promise<Prepared> => {
        const merged = withDefaults(defaults, item);
        if (!merged.ok) return { response: errorResponse(merged.error) };
        const parsed = parseEvaluation(merged.value);
        if (!parsed.ok) return { response: errorResponse(parsed.error) };
        return this.prepare(tenant, parsed.value, lookups);
      }),
    );
    const inputs = prepared.flatMap((entry) => ('input' in entry ? [entry.input] : []));
    const results = inputs.length ? await this.decider.decideBatch(tenant, inputs) : [];
    let next = 0;
    const responses = prepared.map((entry) => ('input' in entry ? evaluationResponse(results[next++]!) : entry.response));
    return { evaluations: applySemantic(responses, options?.evaluations_semantic) };
  }

  private async prepare(tenant: string, parsed: ParsedEvaluation, lookups: Lookups): Promise<Prepared> {
    const { subject } = parsed;
    const [facts, resource] = await Promise.all([lookups.once(`subject ${subject.type} ${subject.id}`, () => this.factsOf(tenant, subject)), this.resourceOf(tenant, parsed.resource, lookups)]);
    if (!resource.ok) return { response: errorResponse(resource.error) };
    if (!subject.act || subject.gid === undefined) return { input: decisionInputOf(parsed, facts, resource.value) };
    const { act, gid } = subject;
    const check = await lookups.once<DelegationCheck>(`grant ${gid} ${JSON.stringify(act)}`, () => checkDelegation(this.messaging, tenant, { act, gid }));
    if (!check.usable) return { response: deniedResponse(`grant_unusable: ${check.reason}`) };
    // The grant acts for the person at the top of its chain: the subject must be that person.
    if (check.grant.rootDelegatorId !== subject.id) return { response: deniedResponse('grant_mismatch: the grant does not act for this subject') };
    const now = new Date((this.options.clock ?? Date.now)()).toISOString();
    return { input: decisionInputOf(parsed, facts, resource.value, decisionGrant(check.grant), now) };
  }

  private factsOf(tenant: string, subject: ParsedEvaluation['subject']): Promise<SubjectFacts> {
    if (subject.type === 'client') return Promise.resolve(this.subjects.client(tenant, subject.id));
    if (subject.type === 'device') return this.subjects.device(tenant, subject.id);
    return this.subjects.user(tenant, subject.id);
  }

  /** A device (by id or serial) is looked up and described by the registry; `*`, a tenant or a scope are taken as given. */
  private async resourceOf(tenant: string, resource: ParsedEvaluation['resource'], lookups: Lookups): Promise<Mapped<DecisionResource>> {
    const { type, id, attributes } = resource;
    if (type === 'device' && id !== '*') {
      let device: DeviceView;
      try {
        device = await lookups.once(`device ${id}`, () => resolveDevice(this.messaging, tenant, id));
      } catch (error) {
        if ((error instanceof HttpFailure && error.status === 404) || ContractError.is(error, 'not_found')) return { ok: false, error: NO_SUCH_DEVICE };
        throw error;
      }
      return { ok: true, value: { type, id: device.id, attributes: { ...attributes, ...deviceAttributes(device) } } };
    }
    const own = type === 'tenant' ? { ...attributes, tenant: id } : attributes;
    return { ok: true, value: { type, id, ...(Object.keys(own).length ? { attributes: own } : {}) } };
  }
}

const NO_SUCH_DEVICE: EvaluationError = { status: 404, message: 'no such device' };
