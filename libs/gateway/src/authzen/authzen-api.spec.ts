// The AuthZEN access evaluation API over HTTP inside one process: the real Fastify app, guard and
// controllers, with a scripted ContractClient in place of NATS (every request parsed with its contract).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type AccessTokenClaims, ContractError } from '@latchkey/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ScriptedServices, startScriptedGateway, TOKEN_CHECKS } from '../test/scripted-gateway.js';

const PUBLIC_URL = 'https://id.example';
const ISSUER = `${PUBLIC_URL}/t/demo`;
const T = Math.floor(Date.now() / 1000);
const OLGA = '5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const LOCK_ID = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';
const SENSOR_ID = '1c6b9f1f-8b4c-4d2a-8e4f-3a2b7c8d9e0f';
const GRANT_ID = '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f';
const NOW = '2030-01-01T00:00:00.000Z';

const TENANTS = parseTenants(`tenants:
  - id: demo
    clients:
      - { clientId: pep, secret: s, grantTypes: [client_credentials], scopes: [access:evaluate], roles: [] }
      - { clientId: ops, secret: s, grantTypes: [client_credentials], roles: [admin] }
`);

const claims = (overrides: Partial<AccessTokenClaims>): AccessTokenClaims => ({ iss: ISSUER, sub: 'pep', aud: 'x', client_id: 'pep', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', scope: 'access:evaluate', ...overrides });
const TOKENS: Record<string, AccessTokenClaims> = {
  pep: claims({}),
  noScope: claims({ scope: 'devices:read' }),
  person: claims({ sub: OLGA, client_id: 'web' }),
};

const view = (id: string, serial: string, type: string, extra: Record<string, unknown> = {}) => ({
  id,
  tenant: 'demo',
  serial,
  type,
  model: null,
  firmwareVersion: null,
  location: null,
  attributes: {},
  ownerId: null,
  status: 'active',
  createdAt: NOW,
  updatedAt: NOW,
  lastSeenAt: null,
  ...extra,
});
const DEVICES = [view(LOCK_ID, 'lock-1', 'bike-lock', { attributes: { site: 'south' }, ownerId: OLGA }), view(SENSOR_ID, 'sensor-1', 'sensor', { location: 'north' })];

class PlatformCalls extends ScriptedServices {
  to(subject: string): Array<Record<string, unknown>> {
    return this.calls.filter((call) => call.subject === `latchkey.${subject}`).map((call) => call.request);
  }
}

/** A stand-in policy: allows what `permits` lists as `action resourceId`, denies anything else with a reason. */
let permits: Set<string>;
const decideOne = ({ action, resource }: Record<string, unknown>) => {
  const key = `${(action as { name: string }).name} ${(resource as { id: string }).id}`;
  return permits.has(key) ? { allow: true, reasons: [`permitted ${key}`], policyVersion: 't' } : { allow: false, reasons: [`no_permission: ${key}`], policyVersion: 't' };
};

const services = new PlatformCalls(TOKEN_CHECKS);
let app: NestFastifyApplication;
let fastify: FastifyInstance;

beforeAll(async () => {
  ({ app, fastify } = await startScriptedGateway(services, TENANTS, PUBLIC_URL));
});

afterAll(async () => {
  await app?.close();
});

beforeEach(() => {
  permits = new Set([`device.command.configure ${LOCK_ID}`, `device.telemetry.publish ${SENSOR_ID}`]);
  services.reset([
    ['latchkey.token.v1.verify-access-token', ({ token }) => (TOKENS[token as string] ? { active: true, claims: TOKENS[token as string] } : { active: false })],
    ['latchkey.identity.v1.get-user', ({ userId }) => ({ user: userId === OLGA ? { id: OLGA, tenant: 'demo', username: 'olga', status: 'active', roles: ['operator'], attributes: { sites: ['south'] } } : null })],
    ['latchkey.device.v1.get', ({ deviceId }) => {
      const device = DEVICES.find((d) => d.id === deviceId);
      if (!device) throw new ContractError('not_found', 'no such device');
      return { device, credentials: [] };
    }],
    ['latchkey.device.v1.find-by-serial', ({ serial }) => {
      const device = DEVICES.find((d) => d.serial === serial);
      if (!device) throw new ContractError('not_found', 'no such device');
      return { device };
    }],
    ['latchkey.policy.v1.decide', decideOne],
    ['latchkey.policy.v1.decide-batch', ({ decisions }) => ({ results: (decisions as Array<Record<string, unknown>>).map(decideOne) })],
  ]);
});

function post(path: string, json: unknown, token = 'pep', headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return fastify.inject({ method: 'POST', url: `/t/demo/access/v1/${path}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, payload: JSON.stringify(json) });
}

const configureLock = { subject: { type: 'user', id: OLGA }, action: { name: 'device.command.configure' }, resource: { type: 'device', id: 'lock-1' } };

describe('POST /access/v1/evaluation', () => {
  it('decides with what the platform knows: the person’s roles and sites, the registry’s device (looked up by serial)', async () => {
    const response = await post('evaluation', { ...configureLock, context: { time: '2030-01-01T10:00:00+01:00' } }, 'pep', { 'x-request-id': 'req-42' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ decision: true });
    expect(response.headers['x-request-id']).toBe('req-42');
    expect(services.to('policy.v1.decide')).toEqual([
      {
        tenant: 'demo',
        subject: { type: 'user', id: OLGA, roles: ['operator'], attributes: { sites: ['south'] } },
        action: { name: 'device.command.configure' },
        resource: { type: 'device', id: LOCK_ID, attributes: { serial: 'lock-1', type: 'bike-lock', status: 'active', ownerId: OLGA, site: 'south', tenant: 'demo' } },
        context: { time: '2030-01-01T10:00:00+01:00' },
      },
    ]);
  });

  it('answers a denial with decision false and the policy’s reasons for administrators', async () => {
    const response = await post('evaluation', { ...configureLock, action: { name: 'device.command.unlock' } });
    expect(response.json()).toEqual({ decision: false, context: { id: '0', reason_admin: { en: `no_permission: device.command.unlock ${LOCK_ID}` } } });
  });

  it('describes a device subject by its registered type and site', async () => {
    const response = await post('evaluation', { subject: { type: 'device', id: SENSOR_ID }, action: { name: 'device.telemetry.publish' }, resource: { type: 'device', id: SENSOR_ID } });
    expect(response.json()).toEqual({ decision: true });
    expect(services.to('policy.v1.decide')[0]?.subject).toEqual({ type: 'device', id: SENSOR_ID, attributes: { deviceType: 'sensor', site: 'north' } });
  });

  it('answers an unknown device with decision false and the error, without asking the policy', async () => {
    const response = await post('evaluation', { ...configureLock, resource: { type: 'device', id: 'nope' } });
    expect(response.json()).toEqual({ decision: false, context: { error: { status: 404, message: 'no such device' } } });
    expect(services.to('policy.v1.decide')).toEqual([]);
  });

  it('refuses what cannot be evaluated with 400 (problem+json), and a non-JSON body with 415', async () => {
    for (const body of [{ subject: configureLock.subject }, { ...configureLock, action: { name: 'can_read' } }, { ...configureLock, subject: { type: 'group', id: 'x' } }]) {
      const response = await post('evaluation', body);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await fastify.inject({ method: 'POST', url: '/t/demo/access/v1/evaluation', headers: { authorization: 'Bearer pep', 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(415);
  });

  it('takes only an app’s token with access:evaluate', async () => {
    expect((await post('evaluation', configureLock, 'nobody')).statusCode).toBe(401);
    expect((await post('evaluation', configureLock, 'noScope')).statusCode).toBe(403);
    expect((await post('evaluation', configureLock, 'person')).statusCode).toBe(403);
    expect(services.calls).toEqual([]);
  });

  it('is a 503, never a decision, when the decision point cannot be asked', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => {
      throw new ContractError('unavailable', 'no timely reply');
    });
    const response = await post('evaluation', configureLock);
    expect(response.statusCode).toBe(503);
    expect(response.json()).not.toHaveProperty('decision');
  });

  it('checks a delegated subject’s grant: unusable, or not acting for this subject, is a denial', async () => {
    const delegated = { ...configureLock, subject: { type: 'user', id: OLGA, properties: { act: { sub: 'bianca' }, gid: GRANT_ID } } };
    services.handlers.set('latchkey.delegation.v1.check', () => ({ usable: false, reason: 'the grant was revoked' }));
    expect((await post('evaluation', delegated)).json()).toEqual({ decision: false, context: { id: '0', reason_admin: { en: 'grant_unusable: the grant was revoked' } } });
    const grant = { id: GRANT_ID, tenant: 'demo', delegator: { id: 'adam', name: 'adam' }, rootDelegatorId: 'adam', delegatee: { type: 'user', id: 'bianca', name: 'bianca' }, resource: 'device:lock-1', scopes: ['lock:configure'], notBefore: NOW, expiresAt: NOW, constraints: null, status: 'active' };
    services.handlers.set('latchkey.delegation.v1.check', () => ({ usable: true, grant }));
    expect((await post('evaluation', delegated)).json()).toMatchObject({ decision: false, context: { reason_admin: { en: expect.stringMatching(/^grant_mismatch/) } } });
    services.handlers.set('latchkey.delegation.v1.check', () => ({ usable: true, grant: { ...grant, rootDelegatorId: OLGA } }));
    expect((await post('evaluation', delegated)).json()).toEqual({ decision: true });
    expect(services.to('policy.v1.decide').at(-1)).toMatchObject({ subject: { act: { sub: 'bianca' }, gid: GRANT_ID }, context: { grant: { id: GRANT_ID, delegatee: 'bianca' }, time: expect.any(String) } });
  });
});

describe('POST /access/v1/evaluations', () => {
  it('applies the top-level defaults, answers in order in one round trip, and reports entries it cannot evaluate', async () => {
    const response = await post('evaluations', {
      subject: configureLock.subject,
      action: { name: 'device.command.configure' },
      evaluations: [
        { resource: { type: 'device', id: 'lock-1' } },
        { resource: { type: 'device', id: LOCK_ID }, action: { name: 'devices.decommission' } },
        { resource: { type: 'device', id: 'nope' } },
        { action: { name: 'Not An Action' }, resource: { type: 'device', id: 'lock-1' } },
        { subject: { type: 'device', id: SENSOR_ID }, action: { name: 'device.telemetry.publish' }, resource: { type: 'device', id: 'sensor-1' } },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      evaluations: [
        { decision: true },
        { decision: false, context: { id: '0', reason_admin: { en: `no_permission: devices.decommission ${LOCK_ID}` } } },
        { decision: false, context: { error: { status: 404, message: 'no such device' } } },
        { decision: false, context: { error: { status: 400, message: expect.stringMatching(/action.name/) } } },
        { decision: true },
      ],
    });
    expect(services.to('policy.v1.decide-batch')).toHaveLength(1);
    expect(services.to('policy.v1.decide')).toEqual([]);
    // The person and the lock were looked up once, though three entries name them.
    expect(services.to('identity.v1.get-user')).toHaveLength(1);
    expect(services.to('device.v1.find-by-serial').filter((r) => r.serial === 'lock-1')).toHaveLength(1);
  });

  it('short-circuits with deny_on_first_deny and permit_on_first_permit', async () => {
    const evaluations = [{ resource: { type: 'device', id: 'lock-1' } }, { resource: { type: 'device', id: 'sensor-1' } }, { resource: { type: 'device', id: 'lock-1' } }];
    const base = { subject: configureLock.subject, action: { name: 'device.command.configure' }, evaluations };
    expect(((await post('evaluations', { ...base, options: { evaluations_semantic: 'deny_on_first_deny' } })).json() as { evaluations: unknown[] }).evaluations).toHaveLength(2);
    expect(((await post('evaluations', { ...base, options: { evaluations_semantic: 'permit_on_first_permit' } })).json() as { evaluations: unknown[] }).evaluations).toEqual([{ decision: true }]);
    expect((await post('evaluations', { ...base, options: { evaluations_semantic: 'whatever' } })).statusCode).toBe(400);
  });

  it('without evaluations is a single evaluation', async () => {
    expect((await post('evaluations', configureLock)).json()).toEqual({ decision: true });
    expect((await post('evaluations', { subject: configureLock.subject })).statusCode).toBe(400);
  });
});

describe('the AuthZEN PDP metadata', () => {
  it('is served at the well-known URL before the PDP’s path, and issuer-relative', async () => {
    for (const url of ['/.well-known/authzen-configuration/t/demo', '/t/demo/.well-known/authzen-configuration']) {
      const response = await fastify.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ policy_decision_point: ISSUER, access_evaluation_endpoint: `${ISSUER}/access/v1/evaluation`, access_evaluations_endpoint: `${ISSUER}/access/v1/evaluations` });
    }
    expect((await fastify.inject({ method: 'GET', url: '/.well-known/authzen-configuration/t/nowhere' })).statusCode).toBe(404);
  });
});
