import { describe, expect, it } from '@jest/globals';
import { applySemantic, decisionInputOf, errorResponse, evaluationResponse, type ParsedEvaluation, parseEvaluation, withDefaults } from './mapping.js';
import type { EvaluationRequest } from './schemas.js';

const USER = '5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const evaluation = (overrides: Partial<EvaluationRequest> = {}): EvaluationRequest => ({
  subject: { type: 'user', id: USER },
  action: { name: 'devices.suspend' },
  resource: { type: 'device', id: 'lock-1' },
  ...overrides,
});

function parsed(request: EvaluationRequest): ParsedEvaluation {
  const result = parseEvaluation(request);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function refused(request: EvaluationRequest): string {
  const result = parseEvaluation(request);
  if (result.ok) throw new Error('expected a refusal');
  expect(result.error.status).toBe(400);
  return result.error.message;
}

describe('AuthZEN defaults (§7.1.1)', () => {
  it('fills an entry from the top-level members, the entry’s own winning', () => {
    const defaults = { subject: { type: 'client', id: 'pep' }, action: { name: 'devices.read' }, context: { ip: '10.0.0.1' } };
    expect(withDefaults(defaults, { resource: { type: 'device', id: 'a' } })).toEqual({ ok: true, value: { ...defaults, resource: { type: 'device', id: 'a' } } });
    expect(withDefaults(defaults, { action: { name: 'devices.update' }, resource: { type: 'device', id: 'a' } })).toMatchObject({ ok: true, value: { action: { name: 'devices.update' } } });
  });

  it('refuses an entry that ends up without subject, action or resource', () => {
    expect(withDefaults({ action: { name: 'devices.read' } }, {})).toEqual({ ok: false, error: { status: 400, message: 'the evaluation has no subject, resource (neither its own nor a default)' } });
  });
});

describe('parseEvaluation: AuthZEN → the policy input', () => {
  it('maps subject properties: roles, scopes (list or space-separated), attributes, ip_address → context.ip', () => {
    const result = parsed(evaluation({ subject: { type: 'user', id: USER, properties: { roles: ['operator'], scopes: 'devices:read devices:write', sites: ['north'], ip_address: '172.217.22.14' } } }));
    expect(result).toEqual({
      subject: { type: 'user', id: USER, roles: ['operator'], scopes: ['devices:read', 'devices:write'], attributes: { sites: ['north'] } },
      action: 'devices.suspend',
      resource: { type: 'device', id: 'lock-1', attributes: {} },
      context: { ip: '172.217.22.14' },
    });
    expect(parsed(evaluation({ subject: { type: 'client', id: 'pep', properties: { scopes: ['lock:unlock'] } } })).subject.scopes).toEqual(['lock:unlock']);
  });

  it('maps a delegated subject (act and gid together) and refuses one of them alone', () => {
    expect(parsed(evaluation({ subject: { type: 'user', id: USER, properties: { act: { sub: 'bianca' }, gid: 'g-1' } } })).subject).toMatchObject({ act: { sub: 'bianca' }, gid: 'g-1' });
    expect(refused(evaluation({ subject: { type: 'user', id: USER, properties: { act: { sub: 'bianca' } } } }))).toMatch(/both act/);
    expect(refused(evaluation({ subject: { type: 'user', id: USER, properties: { gid: 'g-1' } } }))).toMatch(/both act/);
    expect(refused(evaluation({ subject: { type: 'user', id: USER, properties: { act: 'bianca', gid: 'g' } } }))).toMatch(/actor claim/);
  });

  it('maps the context: time, ip (or ip_address), the rest as attributes', () => {
    expect(parsed(evaluation({ context: { time: '2030-01-01T10:00:00+01:00', ip: '2001:db8::1', channel: 'kiosk' } })).context).toEqual({ time: '2030-01-01T10:00:00+01:00', ip: '2001:db8::1', attributes: { channel: 'kiosk' } });
    expect(refused(evaluation({ context: { time: 'yesterday' } }))).toMatch(/context.time/);
    expect(refused(evaluation({ context: { ip: 'localhost' } }))).toMatch(/context.ip/);
  });

  it('takes resource properties as attributes', () => {
    expect(parsed(evaluation({ resource: { type: 'scope', id: 'lock:unlock', properties: { note: 'x' } } })).resource).toEqual({ type: 'scope', id: 'lock:unlock', attributes: { note: 'x' } });
  });

  it.each([
    ['a subject type the policy does not know', evaluation({ subject: { type: 'group', id: 'g' } }), /subject.type/],
    ['an action that is not a policy action', evaluation({ action: { name: 'can_read' } }), /action.name/],
    ['a resource type that is not a slug', evaluation({ resource: { type: 'Device', id: 'x' } }), /resource.type/],
    ['roles that are not a list of names', evaluation({ subject: { type: 'user', id: USER, properties: { roles: 'admin' } } }), /roles/],
    ['a scope that is not a scope token', evaluation({ subject: { type: 'user', id: USER, properties: { scopes: ['a"b'] } } }), /scopes/],
    ['an attribute name the policy refuses', evaluation({ subject: { type: 'user', id: USER, properties: { 'bad name': 1 } } }), /subject.properties/],
  ])('refuses %s with 400', (_what, request, message) => {
    expect(refused(request)).toMatch(message);
  });
});

describe('decisionInputOf', () => {
  const base = parsed(evaluation({ subject: { type: 'user', id: USER, properties: { roles: ['viewer'], sites: ['south'], badge: 7 } } }));
  const resource = { type: 'device', id: 'dev-1', attributes: { site: 'north' } };

  it('joins the roles the platform knows, and lets its attributes win over the caller’s', () => {
    const input = decisionInputOf(base, { roles: ['operator', 'viewer'], attributes: { sites: ['north'] } }, resource);
    expect(input).toEqual({
      subject: { type: 'user', id: USER, roles: ['operator', 'viewer'], attributes: { sites: ['north'], badge: 7 } },
      action: { name: 'devices.suspend' },
      resource,
      context: {},
    });
  });

  it('puts a delegated subject’s grant in the context and pins the time unless the caller gave one', () => {
    const delegated = parsed(evaluation({ subject: { type: 'user', id: USER, properties: { act: { sub: 'b' }, gid: 'g' } } }));
    const grant = { id: 'g', resource: 'device:lock-1', scopes: ['lock:unlock'], notBefore: '2030-01-01T00:00:00Z', expiresAt: '2030-02-01T00:00:00Z' };
    expect(decisionInputOf(delegated, { roles: [], attributes: {} }, resource, grant, '2030-01-02T00:00:00.000Z').context).toEqual({ grant, time: '2030-01-02T00:00:00.000Z' });
    const pinned = { ...delegated, context: { time: '2030-01-05T00:00:00Z' } };
    expect(decisionInputOf(pinned, { roles: [], attributes: {} }, resource, grant, '2030-01-02T00:00:00.000Z').context).toEqual({ time: '2030-01-05T00:00:00Z', grant });
  });
});

describe('AuthZEN responses', () => {
  it('is { decision: true } for an allow, and a denial carries the reasons for administrators', () => {
    expect(evaluationResponse({ allow: true, reasons: ['role admin permits x'] })).toEqual({ decision: true });
    expect(evaluationResponse({ allow: false, reasons: ['no_permission: a', 'scope_missing: b'] })).toEqual({ decision: false, context: { id: '0', reason_admin: { en: 'no_permission: a; scope_missing: b' } } });
    expect(errorResponse({ status: 404, message: 'no such device' })).toEqual({ decision: false, context: { error: { status: 404, message: 'no such device' } } });
  });

  it('applies the evaluations semantics (§7.1.2)', () => {
    const [yes, no] = [{ decision: true }, { decision: false }];
    expect(applySemantic([yes, no, yes])).toEqual([yes, no, yes]);
    expect(applySemantic([yes, no, yes], 'deny_on_first_deny')).toEqual([yes, no]);
    expect(applySemantic([no, yes, no], 'permit_on_first_permit')).toEqual([no, yes]);
    expect(applySemantic([yes, yes], 'deny_on_first_deny')).toEqual([yes, yes]);
  });
});
