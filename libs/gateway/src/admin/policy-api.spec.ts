// The policy administration API (issue #6) over HTTP inside one process: the real Fastify app (its body
// parsers and limits, the raw bundle upload, error rendering), guard and controller, with a scripted
// ContractClient in place of NATS that parses every request with its contract.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type AccessTokenClaims, ContractError, type PolicyStatus } from '@latchkey/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { PolicyDecider } from '../policy/policy-decider.js';
import { POLICY_BUNDLE_BODY_LIMIT_BYTES } from './operations.js';
import { MAX_POLICY_BUNDLE_BYTES } from './policy.controller.js';
import { apiCaller, expectProblem, ScriptedServices, startScriptedGateway, TOKEN_CHECKS } from '../test/scripted-gateway.js';

const PUBLIC_URL = 'https://id.example';
const ISSUER = `${PUBLIC_URL}/t/demo`;
const T = Math.floor(Date.now() / 1000);
const DEVICE_ID = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';

const TENANTS = parseTenants(`tenants:
  - id: demo
    displayName: Demo fleet
    clients:
      - { clientId: demo-service, secret: s, grantTypes: [client_credentials], roles: [admin] }
`);

const claims = (overrides: Partial<AccessTokenClaims>): AccessTokenClaims => ({ iss: ISSUER, sub: 'demo-service', aud: 'x', client_id: 'demo-service', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides });

const TOKENS: Record<string, AccessTokenClaims> = {
  admin: claims({ scope: 'policy:read policy:write' }),
  reader: claims({ scope: 'policy:read devices:read devices:write' }),
  writerOnly: claims({ scope: 'policy:write' }),
  person: claims({ sub: 'user-ada', client_id: 'ops-console', scope: 'policy:read policy:write' }),
  device: claims({ sub: DEVICE_ID, client_id: DEVICE_ID, scope: 'policy:read policy:write', device_type: 'sensor' }),
  delegated: claims({ sub: 'user-ada', client_id: 'demo-app', scope: 'policy:write', act: { sub: 'user-bob' }, gid: 'g-1' }),
};

const status = (overrides: Partial<PolicyStatus['bundle']> = {}): PolicyStatus => ({
  tenant: 'demo',
  policyVersion: 'b0.d0@fe0bf416.1c9a20e7',
  bundle: { source: 'default', origin: 'built-in', version: 0, digest: 'fe0bf416', activatedAt: null, activatedBy: null, ...overrides },
  data: { version: 0, activatedAt: null, activatedBy: null },
  lastRejected: null,
});


const services = new ScriptedServices(TOKEN_CHECKS);
let app: NestFastifyApplication;
let fastify: FastifyInstance;
/** Requests to the scripted gateway started below (`fastify` is set in beforeAll). */
const call: ReturnType<typeof apiCaller> = (method, path, options) => apiCaller(fastify)(method, path, options);

beforeAll(async () => {
  ({ app, fastify } = await startScriptedGateway(services, TENANTS, PUBLIC_URL));
});

afterAll(async () => {
  await app?.close();
});

beforeEach(() => {
  services.reset([
    ['latchkey.token.v1.verify-access-token', ({ tenant, token }) => (tenant === 'demo' && TOKENS[token as string] ? { active: true, claims: TOKENS[token as string] } : { active: false })],
    ['latchkey.policy.v1.status', () => status()],
    ['latchkey.policy.v1.activate-bundle', ({ useDefault }) => (useDefault ? status({ version: 2 }) : status({ source: 'tenant', origin: 'admin-api', version: 1 }))],
    ['latchkey.policy.v1.update-data', () => ({ ...status(), data: { version: 1, activatedAt: '2030-01-01T00:00:00.000Z', activatedBy: { type: 'client', id: 'demo-service' } } })],
  ]);
});



const BUNDLE = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0x00, 0x01, 0x02]);
const ACTOR = { type: 'client', id: 'demo-service' };

describe('GET /admin/v1/policy', () => {
  it('answers the policy service’s status with policy:read, not cached, without asking the policy', async () => {
    const response = await call('GET', '/admin/v1/policy', { token: 'reader' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(status());
    expect(response.headers['cache-control']).toBe('no-store');
    expect(services.calls).toEqual([{ subject: 'latchkey.policy.v1.status', request: { tenant: 'demo' } }]);
  });

  it('needs policy:read (policy:write alone is not enough), a token, and this tenant', async () => {
    const response = await call('GET', '/admin/v1/policy', { token: 'writerOnly' });
    expectProblem(response, 403);
    expect(response.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="policy:read"/);
    expectProblem(await call('GET', '/admin/v1/policy'), 401);
    expectProblem(await call('GET', '/admin/v1/policy', { token: 'unknown' }), 401);
    expect(services.calls).toEqual([]);
  });
});

describe('PUT /admin/v1/policy/bundle', () => {
  it.each(['application/gzip', 'application/octet-stream'])('takes the raw bundle as %s and sends it base64 with the caller as actor', async (type) => {
    const response = await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: BUNDLE, type });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ bundle: { source: 'tenant', origin: 'admin-api', version: 1 } });
    expect(services.calls).toEqual([{ subject: 'latchkey.policy.v1.activate-bundle', request: { tenant: 'demo', actor: ACTOR, bundle: BUNDLE.toString('base64') } }]);
  });

  it('takes JSON { bundle: <base64>, data, reason } and a person administering the policy', async () => {
    const json = { bundle: BUNDLE.toString('base64'), data: { maintenance: { message: 'soon' } }, reason: 'upgrade' };
    const response = await call('PUT', '/admin/v1/policy/bundle', { token: 'person', json });
    expect(response.statusCode).toBe(200);
    expect(services.calls).toEqual([{ subject: 'latchkey.policy.v1.activate-bundle', request: { tenant: 'demo', actor: { type: 'user', id: 'user-ada' }, ...json } }]);
  });

  it('answers the policy service’s validation_failed as a 422 problem with its reason', async () => {
    services.handlers.set('latchkey.policy.v1.activate-bundle', () => {
      throw new ContractError('validation_failed', 'the bundle is not a gzip archive');
    });
    const body = expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: Buffer.from('not a bundle'), type: 'application/octet-stream' }), 422);
    expect(body.detail).toBe('the bundle is not a gzip archive');
  });

  it('answers a concurrent activation (conflict) as a 409', async () => {
    services.handlers.set('latchkey.policy.v1.activate-bundle', () => {
      throw new ContractError('conflict', 'another activation won: retry');
    });
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: BUNDLE, type: 'application/gzip' }), 409);
  });

  it('refuses what is not a bundle before asking anyone: empty, too large, bad base64, another type, no body', async () => {
    expect(expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: Buffer.alloc(0), type: 'application/gzip' }), 400).detail).toMatch(/empty/);
    expect(expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: Buffer.alloc(MAX_POLICY_BUNDLE_BYTES + 1, 1), type: 'application/gzip' }), 413).detail).toMatch(/at most 720000 bytes/);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: Buffer.alloc(POLICY_BUNDLE_BODY_LIMIT_BYTES + 1, 1), type: 'application/gzip' }), 413);
    const badBase64 = expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', json: { bundle: 'not base64!' } }), 422);
    expect(badBase64.errors).toEqual([expect.objectContaining({ pointer: '/bundle' })]);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', json: { bundle: BUNDLE.toString('base64'), useDefault: true } }), 422);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: 'bundle', type: 'text/plain' }), 415);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'admin' }), 400);
    expect(services.calls).toEqual([]);
  });

  it('needs policy:write, a client’s or a person’s own token (not a device’s, not a delegated one)', async () => {
    const response = await call('PUT', '/admin/v1/policy/bundle', { token: 'reader', payload: BUNDLE, type: 'application/gzip' });
    expectProblem(response, 403);
    expect(response.headers['www-authenticate']).toMatch(/scope="policy:write"/);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'device', payload: BUNDLE, type: 'application/gzip' }), 403);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { token: 'delegated', payload: BUNDLE, type: 'application/gzip' }), 403);
    expectProblem(await call('PUT', '/admin/v1/policy/bundle', { payload: BUNDLE, type: 'application/gzip' }), 401);
    expect(services.subjects()).not.toContain('latchkey.policy.v1.activate-bundle');
  });

  it('makes this gateway forget its cached allows once the new policy is active', async () => {
    const decider = app.get(PolicyDecider);
    const input = { subject: { type: 'client' as const, id: 'demo-service' }, action: { name: 'devices.read' }, resource: { type: 'device', id: '*' } };
    decider.cache.remember('k', input, { allow: true, reasons: [], ttlSeconds: 30, policyVersion: 'b0.d0@x' });
    services.handlers.set('latchkey.policy.v1.activate-bundle', () => {
      throw new ContractError('validation_failed', 'broken');
    });
    await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: BUNDLE, type: 'application/gzip' });
    expect(decider.cache.size).toBe(1);
    services.handlers.set('latchkey.policy.v1.activate-bundle', () => status({ version: 1 }));
    expect((await call('PUT', '/admin/v1/policy/bundle', { token: 'admin', payload: BUNDLE, type: 'application/gzip' })).statusCode).toBe(200);
    expect(decider.cache.size).toBe(0);
  });
});

describe('raw bodies elsewhere', () => {
  it('are refused (415) by every route that does not take a bundle', async () => {
    expectProblem(await call('POST', '/admin/v1/devices', { token: 'reader', payload: BUNDLE, type: 'application/gzip' }), 415);
    expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', payload: BUNDLE, type: 'application/octet-stream' }), 415);
    expectProblem(await call('POST', '/admin/v1/policy/reset', { token: 'admin', payload: BUNDLE, type: 'application/octet-stream' }), 415);
    expect(services.subjects().filter((subject) => subject.startsWith('latchkey.policy.') || subject.startsWith('latchkey.device.'))).toEqual([]);
  });
});

describe('POST /admin/v1/policy/reset', () => {
  it('activates the default bundle, keeping the data changes unless clearData, with an optional reason', async () => {
    expect((await call('POST', '/admin/v1/policy/reset', { token: 'admin' })).json()).toMatchObject({ bundle: { version: 2 } });
    expect((await call('POST', '/admin/v1/policy/reset', { token: 'admin', json: { reason: 'maintenance over', clearData: true } })).statusCode).toBe(200);
    expect(services.calls.map((c) => c.request)).toEqual([
      { tenant: 'demo', actor: ACTOR, useDefault: true },
      { tenant: 'demo', actor: ACTOR, useDefault: true, data: {}, reason: 'maintenance over' },
    ]);
  });

  it('refuses unknown members and needs policy:write', async () => {
    expectProblem(await call('POST', '/admin/v1/policy/reset', { token: 'admin', json: { useDefault: false } }), 422);
    expectProblem(await call('POST', '/admin/v1/policy/reset', { token: 'reader' }), 403);
    expect(services.calls).toEqual([]);
  });
});

describe('PATCH /admin/v1/policy/data', () => {
  const patch = { bindings: { client: { 'ops-app': { roles: ['viewer'] }, old: null } } };

  it.each(['application/merge-patch+json', 'application/json'])('sends a %s merge patch as UpdatePolicyData', async (type) => {
    const response = await call('PATCH', '/admin/v1/policy/data', { token: 'admin', json: patch, type });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ data: { version: 1 } });
    expect(services.calls).toEqual([{ subject: 'latchkey.policy.v1.update-data', request: { tenant: 'demo', actor: ACTOR, patch } }]);
  });

  it('refuses the reserved key, a patch that is not an object, another type; passes on the service’s refusal', async () => {
    expect(expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', json: { latchkey: {} } }), 422).detail).toMatch(/reserved/);
    expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', json: [1] }), 422);
    expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', payload: 'a=1', type: 'text/plain' }), 415);
    expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', payload: '{nope', type: 'application/merge-patch+json' }), 400);
    expect(services.calls).toEqual([]);
    services.handlers.set('latchkey.policy.v1.update-data', () => {
      throw new ContractError('validation_failed', 'data_errors: roles.viewer.permissions must be a list');
    });
    expect(expectProblem(await call('PATCH', '/admin/v1/policy/data', { token: 'admin', json: { roles: { viewer: { permissions: 1 } } } }), 422).detail).toMatch(/must be a list/);
  });
});
