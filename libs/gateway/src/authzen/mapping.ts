import {
  ActorClaim,
  type ActorClaimValue,
  DecisionContext,
  type DecisionGrant,
  type DecisionInput,
  type DecisionResource,
  type DecisionResult,
  PolicyActionName,
  PolicyAttributes,
  ScopeToken,
} from '@latchkey/contracts';
import { contextIp } from '../policy/decision-input.js';
import type { SubjectFacts } from '../policy/policy-subjects.js';
import type { EvaluationItem, EvaluationRequest, EvaluationResponse, EvaluationsSemantic } from './schemas.js';

// How an AuthZEN evaluation becomes the policy input (policies/README.md), and a decision an AuthZEN
// response. Pure: the lookups (identity, tenants file, registry, grants) are `AuthzenEvaluator`'s.
//
//   subject {type,id}          → subject {type,id}; type is user | client | device
//   subject.properties.roles   → subject.roles (with the roles the platform knows)
//   subject.properties.scopes  → subject.scopes (a list, or space-separated as in a token)
//   subject.properties.act/gid → subject.act / subject.gid (a delegated subject; the grant is checked)
//   subject.properties.ip_address → context.ip (unless the context gives one)
//   subject.properties.*       → subject.attributes (what the platform knows wins)
//   action.name                → action.name (properties are not read)
//   resource {type,id}         → resource {type,id}; a device by id or serial is looked up
//   resource.properties.*      → resource.attributes (the registry's values win for a device)
//   context.time / ip | ip_address → context.time / context.ip; other members → context.attributes

export interface EvaluationError {
  status: number;
  message: string;
}

export type Mapped<T> = { ok: true; value: T } | { ok: false; error: EvaluationError };

const ok = <T>(value: T): Mapped<T> => ({ ok: true, value });
const bad = (message: string, status = 400): Mapped<never> => ({ ok: false, error: { status, message } });

export const SUBJECT_TYPES = ['user', 'client', 'device'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

/** An evaluation checked against what the policy input takes, before any lookup. */
export interface ParsedEvaluation {
  subject: {
    type: SubjectType;
    id: string;
    roles: string[];
    scopes?: string[];
    act?: ActorClaimValue;
    gid?: string;
    attributes: PolicyAttributes;
  };
  action: string;
  resource: { type: string; id: string; attributes: PolicyAttributes };
  context: DecisionContext;
}

/** The top-level defaults with an entry's own members winning (AuthZEN §7.1.1); all three of subject, action, resource are needed. */
export function withDefaults(defaults: EvaluationItem, item: EvaluationItem): Mapped<EvaluationRequest> {
  const subject = item.subject ?? defaults.subject;
  const action = item.action ?? defaults.action;
  const resource = item.resource ?? defaults.resource;
  const context = item.context ?? defaults.context;
  const missing = [subject ? null : 'subject', action ? null : 'action', resource ? null : 'resource'].filter(Boolean);
  if (!subject || !action || !resource) return bad(`the evaluation has no ${missing.join(', ')} (neither its own nor a default)`);
  return ok({ subject, action, resource, ...(context ? { context } : {}) });
}

const RESOURCE_TYPE = /^[a-z][a-z0-9_-]{0,49}$/;
const RESERVED_SUBJECT_PROPERTIES = new Set(['roles', 'scopes', 'act', 'gid', 'ip_address']);

function issueOf(error: { issues: ReadonlyArray<{ message: string; path: readonly PropertyKey[] }> }, where: string): string {
  const issue = error.issues[0];
  const path = issue?.path.length ? `.${issue.path.map(String).join('.')}` : '';
  return `${where}${path}: ${issue?.message ?? 'invalid'}`;
}

function rolesOf(value: unknown): Mapped<string[]> {
  if (value === undefined) return ok([]);
  if (!Array.isArray(value) || value.length > 50 || !value.every((role) => typeof role === 'string' && role.length > 0 && role.length <= 100)) {
    return bad('subject.properties.roles: a list of at most 50 role names');
  }
  return ok(value as string[]);
}

function scopesOf(value: unknown): Mapped<string[] | undefined> {
  if (value === undefined) return ok(undefined);
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || list.length > 100 || !list.every((scope) => ScopeToken.safeParse(scope).success)) {
    return bad('subject.properties.scopes: a list of scope tokens (or one space-separated string), at most 100');
  }
  return ok(list as string[]);
}

function attributesOf(values: Readonly<Record<string, unknown>>, where: string): Mapped<PolicyAttributes> {
  const defined = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  const parsed = PolicyAttributes.safeParse(defined);
  return parsed.success ? ok(parsed.data) : bad(issueOf(parsed.error, where));
}

/** Checks an evaluation and puts it in the policy input's terms; a 400 error says what is wrong. */
export function parseEvaluation(evaluation: EvaluationRequest): Mapped<ParsedEvaluation> {
  const { subject, action, resource } = evaluation;
  if (!(SUBJECT_TYPES as readonly string[]).includes(subject.type)) return bad('subject.type: user, client or device');
  if (subject.id.length > 200) return bad('subject.id: at most 200 characters');
  if (!PolicyActionName.safeParse(action.name).success) return bad('action.name: a dotted lowercase action such as devices.read');
  if (!RESOURCE_TYPE.test(resource.type)) return bad('resource.type: a lowercase slug such as device');

  const properties = subject.properties ?? {};
  const roles = rolesOf(properties.roles);
  if (!roles.ok) return roles;
  const scopes = scopesOf(properties.scopes);
  if (!scopes.ok) return scopes;
  let act: ActorClaimValue | undefined;
  if (properties.act !== undefined) {
    const parsed = ActorClaim.safeParse(properties.act);
    if (!parsed.success) return bad('subject.properties.act: an RFC 8693 actor claim { sub, act? }');
    act = parsed.data;
  }
  const gid = properties.gid;
  if (gid !== undefined && (typeof gid !== 'string' || gid.length === 0 || gid.length > 200)) return bad('subject.properties.gid: a grant id');
  if ((act === undefined) !== (gid === undefined)) return bad('subject.properties: a delegated subject names both act (who acts) and gid (the grant)');
  const subjectAttributes = attributesOf(Object.fromEntries(Object.entries(properties).filter(([name]) => !RESERVED_SUBJECT_PROPERTIES.has(name))), 'subject.properties');
  if (!subjectAttributes.ok) return subjectAttributes;
  const resourceAttributes = attributesOf(resource.properties ?? {}, 'resource.properties');
  if (!resourceAttributes.ok) return resourceAttributes;

  const { time, ip, ip_address: ipAddress, ...rest } = evaluation.context ?? {};
  const context: DecisionContext = {};
  if (time !== undefined) {
    const parsed = DecisionContext.shape.time.safeParse(time);
    if (!parsed.success || parsed.data === undefined) return bad('context.time: an RFC 3339 date-time with an offset');
    context.time = parsed.data;
  }
  const givenIp = ip ?? ipAddress ?? properties.ip_address;
  if (givenIp !== undefined) {
    const parsed = typeof givenIp === 'string' ? contextIp(givenIp) : undefined;
    if (!parsed) return bad('context.ip: an IPv4 or IPv6 address');
    context.ip = parsed;
  }
  const contextAttributes = attributesOf(rest, 'context');
  if (!contextAttributes.ok) return contextAttributes;
  if (Object.keys(contextAttributes.value).length) context.attributes = contextAttributes.value;

  return ok({
    subject: {
      type: subject.type as SubjectType,
      id: subject.id,
      roles: roles.value,
      ...(scopes.value ? { scopes: scopes.value } : {}),
      ...(act ? { act, gid: gid as string } : {}),
      attributes: subjectAttributes.value,
    },
    action: action.name,
    resource: { type: resource.type, id: resource.id, attributes: resourceAttributes.value },
    context,
  });
}

/**
 * The policy input of a parsed evaluation with what the platform knows: the subject's roles joined,
 * its attributes over the caller's, the looked-up resource, and a delegated subject's grant.
 */
export function decisionInputOf(parsed: ParsedEvaluation, facts: SubjectFacts, resource: DecisionResource, grant?: DecisionGrant, now?: string): DecisionInput {
  const { subject } = parsed;
  const roles = [...new Set([...facts.roles, ...subject.roles])];
  const attributes = { ...subject.attributes, ...facts.attributes };
  return {
    subject: {
      type: subject.type,
      id: subject.id,
      ...(roles.length ? { roles } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
      ...(subject.scopes ? { scopes: subject.scopes } : {}),
      ...(subject.act ? { act: subject.act, gid: subject.gid } : {}),
    },
    action: { name: parsed.action },
    resource,
    context: { ...parsed.context, ...(grant ? { grant, ...(parsed.context.time ? {} : now ? { time: now } : {}) } : {}) },
  };
}

/** AuthZEN's answer to a decision: `{ decision }`, and on a denial the policy's reasons for administrators. */
export function evaluationResponse(result: Pick<DecisionResult, 'allow' | 'reasons'>): EvaluationResponse {
  if (result.allow) return { decision: true };
  return { decision: false, context: { id: '0', reason_admin: { en: result.reasons.join('; ') || 'denied' } } };
}

/** An evaluation that could not be made is a denial that says why (AuthZEN §7.2.1). */
export function errorResponse(error: EvaluationError): EvaluationResponse {
  return { decision: false, context: { error: { status: error.status, message: error.message } } };
}

/** A denial the gateway makes itself (e.g. an unusable grant), in the same shape as the policy's. */
export function deniedResponse(reason: string): EvaluationResponse {
  return evaluationResponse({ allow: false, reasons: [reason] });
}

/**
 * AuthZEN §7.1.2: `execute_all` answers every evaluation in order; `deny_on_first_deny` stops after
 * the first denial (an error counts as one), `permit_on_first_permit` after the first permit.
 */
export function applySemantic(responses: readonly EvaluationResponse[], semantic: EvaluationsSemantic = 'execute_all'): EvaluationResponse[] {
  if (semantic === 'execute_all') return [...responses];
  const stopAt = responses.findIndex((response) => response.decision === (semantic === 'permit_on_first_permit'));
  return stopAt < 0 ? [...responses] : responses.slice(0, stopAt + 1);
}
