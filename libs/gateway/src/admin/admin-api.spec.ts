// The device APIs and the claim page over HTTP inside one process: the real Fastify app (parsers, body
// limits, error rendering), guard and controllers, with a scripted ContractClient in place of NATS. It
// checks that every request the gateway sends is valid for its contract, and what reaches the client.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type AccessTokenClaims, type BulkRowOutcome, ContractError } from '@latchkey/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { PolicyDecider } from '../policy/policy-decider.js';
import { apiCaller, expectProblem, GUARD_SUBJECTS, ScriptedServices, startScriptedGateway } from '../test/scripted-gateway.js';

const PUBLIC_URL = 'https://id.example';
const ISSUER = `${PUBLIC_URL}/t/demo`;
const DEVICE_ID = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';
const CREDENTIAL_ID = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const OLGA = '5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const DORA = '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const NOW = '2030-01-01T00:00:00.000Z';
const T = Math.floor(Date.now() / 1000);

const TENANTS = parseTenants(`tenants:
  - id: demo
    displayName: Demo fleet
    clients:
      - { clientId: demo-service, secret: s, grantTypes: [client_credentials], roles: [admin] }
    deviceTypes:
      - type: sensor
        displayName: Environmental sensor
  - id: other
`);

const device = (overrides: Record<string, unknown> = {}) => ({
  id: DEVICE_ID,
  tenant: 'demo',
  serial: 's-1',
  type: 'sensor',
  model: null,
  firmwareVersion: null,
  location: null,
  attributes: {},
  ownerId: null,
  status: 'provisioned',
  createdAt: NOW,
  updatedAt: NOW,
  lastSeenAt: null,
  ...overrides,
});

const claims = (overrides: Partial<AccessTokenClaims>): AccessTokenClaims => ({ iss: ISSUER, sub: 'demo-service', aud: 'x', client_id: 'demo-service', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides });

/** The tokens the scripted token service knows. */
const TOKENS: Record<string, AccessTokenClaims> = {
  service: claims({ scope: 'devices:read devices:write' }),
  reader: claims({ scope: 'devices:read' }),
  adam: claims({ sub: 'user-adam', client_id: 'demo-web', scope: 'openid devices:claim' }),
  claimingService: claims({ scope: 'devices:claim' }),
  olga: claims({ sub: OLGA, client_id: 'ops-console', scope: 'devices:read devices:write' }),
  dora: claims({ sub: DORA, client_id: 'ops-console', scope: 'devices:read devices:write' }),
  sensor: claims({ sub: DEVICE_ID, client_id: DEVICE_ID, scope: 'devices:read', device_type: 'sensor' }),
};

const ALLOW = { allow: true, reasons: ['role admin permits it'], policyVersion: 'b0.d0@test' };

/** Each request is parsed with its contract's schema (the gateway must send valid ones) and recorded. */
class DeviceRegistryCalls extends ScriptedServices {
  /** Device-registry calls by operation name (`create`, `get`, …). */
  override subjects(): string[] {
    return this.calls.map((call) => call.subject.replace('latchkey.device.v1.', ''));
  }

  /** The route's calls to one subject (the policy step's `get` of the device left out when asking for another). */
  to(operation: string): Array<Record<string, unknown>> {
    return this.calls.filter((call) => call.subject === `latchkey.device.v1.${operation}`).map((call) => call.request);
  }
}

const services = new DeviceRegistryCalls(GUARD_SUBJECTS);
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

const policyDecider = () => app.get(PolicyDecider);

beforeEach(() => {
  policyDecider().cache.clear();
  services.reset([
    ['latchkey.token.v1.verify-access-token', ({ tenant, token }) => (tenant === 'demo' && TOKENS[token as string] ? { active: true, claims: TOKENS[token as string] } : { active: false })],
    ['latchkey.policy.v1.decide', () => ALLOW],
    [
      'latchkey.identity.v1.get-user',
      ({ userId }) => ({
        user:
          userId === OLGA
            ? { id: OLGA, tenant: 'demo', username: 'olga', status: 'active', roles: ['operator'], attributes: { sites: ['north'], 'bad name': 1, nothing: null } }
            : userId === DORA
              ? { id: DORA, tenant: 'demo', username: 'dora', status: 'disabled', roles: ['admin'], attributes: {} }
              : null,
      }),
    ],
    ['latchkey.device.v1.create', () => ({ device: device(), credentials: [] })],
    ['latchkey.device.v1.get', () => ({ device: device(), credentials: [] })],
    ['latchkey.device.v1.list', () => ({ items: [device()], nextCursor: 'next-1' })],
    ['latchkey.device.v1.update', () => ({ device: device({ model: 'M2' }) })],
    ['latchkey.device.v1.change-status', ({ action }) => ({ device: device({ status: action === 'suspend' ? 'suspended' : 'active' }) })],
    ['latchkey.device.v1.audit', () => ({ items: [], nextCursor: null })],
    ['latchkey.device.v1.claim', () => ({ device: device({ ownerId: 'user-adam' }) })],
    [
      'latchkey.device.v1.bulk-provision',
      ({ rows, firstRow }) => ({ rows: (rows as Array<{ serial?: string }>).map((row, i): BulkRowOutcome => ({ row: (firstRow as number) + i, outcome: 'created', serial: row.serial ?? '?', deviceId: DEVICE_ID })) }),
    ],
  ]);
});



describe('the token guard on the admin API', () => {
  it('asks for a token (401 with the Bearer challenge, problem+json, no-store)', async () => {
    const response = await call('GET', '/admin/v1/devices');
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="${ISSUER}"`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(services.calls).toEqual([]);
  });

  it('refuses an unknown or revoked token with invalid_token', async () => {
    const response = await call('GET', '/admin/v1/devices', { token: 'revoked' });
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses a change without devices:write with insufficient_scope, and changes nothing', async () => {
    const response = await call('POST', `/admin/v1/devices/${DEVICE_ID}/suspend`, { token: 'reader' });
    expectProblem(response, 403);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope", error_description="[^"]+", scope="devices:write"$/);
    expect(services.calls).toEqual([]);
  });

  it('answers 404 for an unknown tenant before looking at the token', async () => {
    const response = await fastify.inject({ method: 'GET', url: '/t/nowhere/admin/v1/devices', headers: { authorization: 'Bearer service' } });
    expect(response.statusCode).toBe(404);
  });
});

describe('the device admin API', () => {
  it('creates a device with the caller as the actor: 201 with Location', async () => {
    const response = await call('POST', '/admin/v1/devices', { token: 'service', json: { serial: 's-1', type: 'sensor', claimCode: true, attributes: { site: 'berlin' } } });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toBe(`${ISSUER}/admin/v1/devices/${DEVICE_ID}`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toMatchObject({ device: { id: DEVICE_ID } });
    expect(services.calls).toEqual([{ subject: 'latchkey.device.v1.create', request: expect.objectContaining({ tenant: 'demo', actor: { type: 'client', id: 'demo-service' }, device: expect.objectContaining({ serial: 's-1', claimCode: true }) }) }]);
  });

  it('refuses an invalid body with 422 listing every issue, and asks nobody', async () => {
    const body = expectProblem(await call('POST', '/admin/v1/devices', { token: 'service', json: { type: 'Not A Slug', colour: 'red' } }), 422);
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/serial' }), expect.objectContaining({ pointer: '/type' }), expect.objectContaining({ detail: expect.stringContaining('colour') })]));
    expect(services.calls).toEqual([]);
  });

  it('refuses malformed JSON (400), another media type (415) and a body over the limit (413)', async () => {
    expectProblem(await call('POST', '/admin/v1/devices', { token: 'service', payload: '{"serial": ', type: 'application/json' }), 400);
    expectProblem(await call('POST', '/admin/v1/devices', { token: 'service', payload: 'serial=x', type: 'text/plain' }), 415);
    expectProblem(await call('POST', '/admin/v1/devices', { token: 'service', json: { serial: 's', type: 't', model: 'x'.repeat(70_000) } }), 413);
    expect(services.calls).toEqual([]);
  });

  it('answers 404 for a device id that is not a UUID', async () => {
    expectProblem(await call('GET', '/admin/v1/devices/not-a-uuid', { token: 'service' }), 404);
    expectProblem(await call('POST', `/admin/v1/devices/${DEVICE_ID}/credentials/nope/revoke`, { token: 'service' }), 404);
    expect(services.calls).toEqual([]);
  });

  it('lists with filters and an RFC 8288 next link; refuses an unknown status', async () => {
    const response = await call('GET', '/admin/v1/devices?status=active&attr.floor=3&limit=2', { token: 'reader' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ items: [expect.objectContaining({ id: DEVICE_ID })], nextCursor: 'next-1' });
    expect(response.headers.link).toBe(`<${ISSUER}/admin/v1/devices?status=active&attr.floor=3&limit=2&cursor=next-1>; rel="next"`);
    expect(services.calls[0]?.request).toEqual({ tenant: 'demo', status: 'active', attributes: { floor: 3 }, limit: 2 });
    const bad = expectProblem(await call('GET', '/admin/v1/devices?status=broken', { token: 'reader' }), 400);
    expect(bad.errors).toEqual([expect.objectContaining({ parameter: 'status' })]);
  });

  it('patches with a JSON merge patch, the reason going along', async () => {
    const response = await call('PATCH', `/admin/v1/devices/${DEVICE_ID}`, { token: 'service', type: 'application/merge-patch+json', json: { model: 'M2', attributes: { old: null }, reason: 'upgrade' } });
    expect(response.statusCode).toBe(200);
    expect(services.to('update')).toEqual([{ tenant: 'demo', actor: { type: 'client', id: 'demo-service' }, deviceId: DEVICE_ID, changes: { model: 'M2', attributes: { old: null } }, reason: 'upgrade' }]);
    expectProblem(await call('PATCH', `/admin/v1/devices/${DEVICE_ID}`, { token: 'service', json: { status: 'active' } }), 422);
    expectProblem(await call('PATCH', `/admin/v1/devices/${DEVICE_ID}`, { token: 'service', json: { reason: 'nothing' } }), 422);
  });

  it('runs a lifecycle action with or without a reason', async () => {
    expect((await call('POST', `/admin/v1/devices/${DEVICE_ID}/suspend`, { token: 'service' })).statusCode).toBe(200);
    expect((await call('POST', `/admin/v1/devices/${DEVICE_ID}/activate`, { token: 'service', json: { reason: 'installed' } })).statusCode).toBe(200);
    expect(services.to('change-status').map((c) => [c.action, c.reason])).toEqual([
      ['suspend', undefined],
      ['activate', 'installed'],
    ]);
  });

  it('maps registry errors: conflict 409 with its details, not found 404', async () => {
    services.handlers.set('latchkey.device.v1.change-status', () => {
      throw new ContractError('conflict', 'cannot reactivate an active device', { from: 'active', action: 'reactivate' });
    });
    const body = expectProblem(await call('POST', `/admin/v1/devices/${DEVICE_ID}/reactivate`, { token: 'service' }), 409);
    expect(body.details).toEqual({ from: 'active', action: 'reactivate' });
    services.handlers.set('latchkey.device.v1.get', () => {
      throw new ContractError('not_found', 'no such device');
    });
    expectProblem(await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' }), 404);
  });

  it('adds a credential (201) and pages the audit trail', async () => {
    services.handlers.set('latchkey.device.v1.add-credential', () => ({
      credential: { id: CREDENTIAL_ID, deviceId: DEVICE_ID, kind: 'secret', status: 'active', kid: null, jwk: null, thumbprint: null, expiresAt: null, createdAt: NOW, revokedAt: null },
      secret: 'shown-once',
    }));
    const added = await call('POST', `/admin/v1/devices/${DEVICE_ID}/credentials`, { token: 'service', json: { kind: 'secret', reason: 'field unit' } });
    expect(added.statusCode).toBe(201);
    expect(services.to('add-credential')).toEqual([expect.objectContaining({ credential: expect.objectContaining({ kind: 'secret' }), reason: 'field unit' })]);
    expect((await call('GET', `/admin/v1/devices/${DEVICE_ID}/audit?limit=5`, { token: 'reader' })).statusCode).toBe(200);
    expect(services.to('audit')).toEqual([{ tenant: 'demo', deviceId: DEVICE_ID, limit: 5 }]);
  });
});

describe('the policy step of the guard (issue #6)', () => {
  const suspend = (token: string, id = DEVICE_ID) => call('POST', `/admin/v1/devices/${id}/suspend`, { token });

  it('asks the decision point about the route’s action on the registry’s device, as a client with its tenants-file roles', async () => {
    services.handlers.set('latchkey.device.v1.get', () => ({ device: device({ status: 'active', ownerId: 'user-adam', location: 'north-hall', attributes: { site: 'north', floor: 3 }, firmwareVersion: '1.2.0' }), credentials: [] }));
    expect((await suspend('service')).statusCode).toBe(200);
    expect(services.decisions).toEqual([
      {
        tenant: 'demo',
        subject: { type: 'client', id: 'demo-service', roles: ['admin'], attributes: {}, scopes: ['devices:read', 'devices:write'] },
        action: { name: 'devices.suspend' },
        resource: { type: 'device', id: DEVICE_ID, attributes: { serial: 's-1', type: 'sensor', status: 'active', ownerId: 'user-adam', location: 'north-hall', firmwareVersion: '1.2.0', site: 'north', tenant: 'demo' } },
        context: { ip: '127.0.0.1' },
      },
    ]);
    expect(services.subjects()).toEqual(['get', 'change-status']);
  });

  it('gives a person the roles and attributes of their account (GetUser), and a disabled one none', async () => {
    expect((await suspend('olga')).statusCode).toBe(200);
    expect(services.decisions[0]?.subject).toEqual({ type: 'user', id: OLGA, roles: ['operator'], attributes: { sites: ['north'] }, scopes: ['devices:read', 'devices:write'] });
    expect((await suspend('dora')).statusCode).toBe(200);
    expect(services.decisions[1]?.subject).toEqual({ type: 'user', id: DORA, roles: [], attributes: {}, scopes: ['devices:read', 'devices:write'] });
    expect(services.userLookups).toEqual([OLGA, DORA]);
  });

  it('gives a device its type from its token and its site from the registry', async () => {
    services.handlers.set('latchkey.device.v1.get', () => ({ device: device({ location: 'south-yard' }), credentials: [] }));
    expect((await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'sensor' })).statusCode).toBe(200);
    expect(services.decisions[0]?.subject).toEqual({ type: 'device', id: DEVICE_ID, roles: [], attributes: { deviceType: 'sensor', site: 'south-yard' }, scopes: ['devices:read'] });
  });

  it('refuses a denial with 403 problem+json carrying the policy’s reasons, and changes nothing', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => ({ allow: false, reasons: ['out_of_scope: role operator permits devices.suspend only on resources at the subject\'s own sites'], policyVersion: 'b0.d0@test' }));
    const body = expectProblem(await suspend('olga'), 403);
    expect(body).toMatchObject({ detail: expect.stringMatching(/^the policy does not allow devices\.suspend here: out_of_scope/), reasons: [expect.stringMatching(/^out_of_scope: /)] });
    expect(body).not.toHaveProperty('policyVersion');
    expect(services.subjects()).toEqual(['get']);
  });

  it.each([
    ['stopped (no responders)', 'unavailable'],
    ['too slow (timeout)', 'unavailable'],
    ['failing', 'internal'],
    ['not knowing the tenant', 'tenant_not_found'],
  ] as const)('answers 503, never an allow, when the decision point is %s', async (_what, code) => {
    services.handlers.set('latchkey.policy.v1.decide', () => {
      throw new ContractError(code, 'secret internals');
    });
    const body = expectProblem(await suspend('service'), 503);
    expect(body.detail).toMatch(/authorization is temporarily unavailable/);
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(services.subjects()).toEqual(['get']);
  });

  it('answers the route’s 404 for an unknown device before asking the policy, and a bad body 4xx before any lookup', async () => {
    services.handlers.set('latchkey.device.v1.get', () => {
      throw new ContractError('not_found', 'no such device');
    });
    expectProblem(await suspend('service'), 404);
    expect(services.decisions).toEqual([]);
    services.calls = [];
    expectProblem(await call('PATCH', `/admin/v1/devices/${DEVICE_ID}`, { token: 'service', json: { status: 'active' } }), 422);
    expectProblem(await call('POST', `/admin/v1/devices/${DEVICE_ID}/suspend`, { token: 'service', payload: 'why', type: 'text/plain' }), 415);
    expect({ calls: services.calls, decisions: services.decisions }).toEqual({ calls: [], decisions: [] });
  });

  it('fetches the device once: getDevice answers with what the policy step fetched', async () => {
    const response = await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' });
    expect(response.json()).toEqual({ device: device(), credentials: [] });
    expect(services.subjects()).toEqual(['get']);
  });

  it('decides a create on the new device’s serial, type, location, site and owner', async () => {
    await call('POST', '/admin/v1/devices', { token: 'olga', json: { serial: 'n-7', type: 'sensor', location: 'hall', attributes: { site: 'north' }, activate: true } });
    expect(services.decisions[0]).toMatchObject({ action: { name: 'devices.create' }, resource: { type: 'device', id: 'n-7', attributes: { serial: 'n-7', type: 'sensor', status: 'active', location: 'hall', site: 'north', tenant: 'demo' } } });
  });

  it('decides bulk provisioning on the tenant, and the list on every device unless narrowed by owner or site', async () => {
    await call('POST', '/admin/v1/devices/bulk', { token: 'service', json: [{ serial: 'b-1', type: 'sensor' }] });
    await call('GET', '/admin/v1/devices', { token: 'reader' });
    await call('GET', `/admin/v1/devices?owner=${OLGA}&attr.site=north&attr.floor=2`, { token: 'olga' });
    await call('GET', '/admin/v1/devices?owner=none', { token: 'reader' });
    expect(services.decisions.map((d) => [(d.action as { name: string }).name, d.resource])).toEqual([
      ['devices.bulk', { type: 'tenant', id: 'demo', attributes: { tenant: 'demo' } }],
      ['devices.read', { type: 'device', id: '*' }],
      ['devices.read', { type: 'device', id: '*', attributes: { ownerId: OLGA, site: 'north', tenant: 'demo' } }],
      ['devices.read', { type: 'device', id: '*' }],
    ]);
  });

  it('reuses an allow for its ttlSeconds for the same input, never a denial', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => ({ ...ALLOW, ttlSeconds: 30 }));
    for (let i = 0; i < 3; i++) expect((await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' })).statusCode).toBe(200);
    expect(services.decisions).toHaveLength(1);
    // Another input (the device changed) is asked again.
    services.handlers.set('latchkey.device.v1.get', () => ({ device: device({ status: 'active' }), credentials: [] }));
    await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' });
    expect(services.decisions).toHaveLength(2);
    services.handlers.set('latchkey.policy.v1.decide', () => ({ allow: false, reasons: ['no_permission: no'], ttlSeconds: 30, policyVersion: 'x' }));
    services.handlers.set('latchkey.device.v1.get', () => ({ device: device({ status: 'suspended' }), credentials: [] }));
    for (let i = 0; i < 2; i++) expectProblem(await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' }), 403);
    expect(services.decisions).toHaveLength(4);
  });

  it('refuses an allow whose obligations the route cannot fulfil (an audit obligation on a read)', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => ({ ...ALLOW, obligations: { audit: { act: { sub: 'someone' } } } }));
    const body = expectProblem(await call('GET', `/admin/v1/devices/${DEVICE_ID}`, { token: 'reader' }), 403);
    expect(body.reasons).toEqual(['obligation_unfulfillable: audit']);
    services.handlers.set('latchkey.policy.v1.decide', () => ({ ...ALLOW, obligations: { notify: 'ops' } }));
    expectProblem(await suspend('service'), 403);
    expect(services.subjects()).not.toContain('change-status');
  });
});

describe('bulk provisioning', () => {
  it('takes CSV beyond the usual body limit, reports rows by number, as CSV when asked', async () => {
    const rows = Array.from({ length: 1500 }, (_, i) => `bulk-${i},sensor,Model with a long name to make the body large,${i}`);
    rows[3] = 'broken,sensor';
    const csv = `serial,type,model,attr.n\n${rows.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(64 * 1024);
    const response = await call('POST', '/admin/v1/devices/bulk', { token: 'service', payload: csv, type: 'text/csv' });
    expect(response.statusCode).toBe(200);
    const report = response.json<{ summary: unknown; rows: Array<{ row: number; outcome: string }> }>();
    expect(report.summary).toEqual({ created: 1499, skipped: 0, rejected: 1 });
    expect(report.rows[3]).toMatchObject({ row: 3, outcome: 'rejected', serial: 'broken' });
    expect(services.calls.map((c) => [c.request.firstRow, (c.request.rows as unknown[]).length])).toEqual([
      [0, 3],
      [4, 500],
      [504, 500],
      [1004, 496],
    ]);
    expect(services.calls.every((c) => (c.timeoutMs ?? 0) >= 30_000)).toBe(true);
    const asCsv = await call('POST', '/admin/v1/devices/bulk', { token: 'service', json: [{ serial: 'j-1', type: 'sensor' }], headers: { accept: 'text/csv' } });
    expect(asCsv.headers['content-type']).toMatch(/^text\/csv/);
    expect(asCsv.body.split('\r\n')[1]).toBe(`0,created,j-1,${DEVICE_ID},,,,,`);
  });

  it('refuses too many rows (413) and answers 503 with the confirmed rows when the registry goes away', async () => {
    expectProblem(await call('POST', '/admin/v1/devices/bulk', { token: 'service', json: Array.from({ length: 10_001 }, () => ({})) }), 413);
    expect(services.calls).toEqual([]);
    services.handlers.set('latchkey.device.v1.bulk-provision', ({ rows, firstRow }) => {
      if ((firstRow as number) > 0) throw new ContractError('unavailable', 'no timely reply');
      return { rows: (rows as unknown[]).map((_, i) => ({ row: i, outcome: 'created', serial: `s-${i}`, deviceId: DEVICE_ID })) };
    });
    const body = expectProblem(await call('POST', '/admin/v1/devices/bulk', { token: 'service', json: { devices: Array.from({ length: 700 }, (_, i) => ({ serial: `s-${i}`, type: 'sensor' })) } }), 503);
    expect(body.summary).toEqual({ created: 500, skipped: 0, rejected: 0, unconfirmed: 200 });
    expect((body.rows as unknown[]).length).toBe(500);
  });
});

describe('claiming a device through the API', () => {
  it("claims for the token's user with the client IP", async () => {
    const response = await call('POST', '/v1/devices/claim', { token: 'adam', json: { code: '7K3M-Q9XA-2BFD-HT6W' } });
    expect(response.statusCode).toBe(200);
    expect(services.calls[0]?.request).toEqual({ tenant: 'demo', userId: 'user-adam', code: '7K3M-Q9XA-2BFD-HT6W', clientIp: '127.0.0.1' });
  });

  it('refuses an app token (only a person claims) and a token without devices:claim', async () => {
    expectProblem(await call('POST', '/v1/devices/claim', { token: 'claimingService', json: { code: 'x' } }), 403);
    expectProblem(await call('POST', '/v1/devices/claim', { token: 'service', json: { code: 'x' } }), 403);
    expect(services.calls).toEqual([]);
  });

  it('says the same about every failing code', async () => {
    for (const code of ['invalid_grant', 'not_found', 'conflict'] as const) {
      services.handlers.set('latchkey.device.v1.claim', () => {
        throw new ContractError(code, `secret reason: ${code}`);
      });
      const body = expectProblem(await call('POST', '/v1/devices/claim', { token: 'adam', json: { code: 'WRONG-CODE' } }), 400);
      expect(body.detail).toBe('the claim code is not valid');
    }
  });
});

describe('the OpenAPI document', () => {
  it('is public and per tenant', async () => {
    const response = await call('GET', '/admin/v1/openapi.json');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ openapi: '3.1.0', servers: [{ url: ISSUER }] });
  });
});

describe('the claim page /t/{t}/claim', () => {
  const SESSION_COOKIE = '__Host-latchkey-session-demo';
  const USER_ID = '3f8e4c1a-2b7d-4e9f-8a6c-5d4e3f2a1b0c';
  const hidden = (page: string, name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(page)?.[1];
  const heading = (page: string) => /<h1>([^<]*)<\/h1>/.exec(page)?.[1];

  beforeEach(() => {
    services.handlers.set('latchkey.identity.v1.get-session', ({ sessionId }) => ({
      session: sessionId === 'live' ? { user: { id: USER_ID, tenant: 'demo', username: 'adam', status: 'active' }, amr: ['pwd'], acr: 'urn:latchkey:loa:1', authTime: T, expiresAt: NOW, idleExpiresAt: NOW } : null,
    }));
  });

  /** The claim form of a signed-in browser: its CSRF token and the cookie it is bound to. */
  async function openForm(query = '') {
    const page = await fastify.inject({ method: 'GET', url: `/t/demo/claim${query}`, headers: { cookie: `${SESSION_COOKIE}=live` } });
    expect(page.statusCode).toBe(200);
    const csrfCookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ');
    return { page, csrf: hidden(page.body, 'csrf_token') as string, cookie: `${SESSION_COOKIE}=live; ${csrfCookie}` };
  }

  const post = (cookie: string, fields: Record<string, string>) =>
    fastify.inject({ method: 'POST', url: '/t/demo/claim', headers: { cookie, origin: PUBLIC_URL, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

  it('asks a browser without a session to sign in, carrying the code from the QR link', async () => {
    const page = await fastify.inject({ method: 'GET', url: '/t/demo/claim?code=7k3m-q9xa-2bfd-ht6w' });
    expect(page.statusCode).toBe(200);
    expect(heading(page.body)).toBe('Sign in');
    expect(hidden(page.body, 'interaction_id')).toBe('claim:7K3MQ9XA2BFDHT6W');
  });

  it('prefills the code and claims the device for the signed-in person, with the client IP', async () => {
    const { page, csrf, cookie } = await openForm('?code=7k3m-q9xa-2bfd-ht6w');
    expect(heading(page.body)).toBe('Add a device');
    expect(page.body).toContain('value="7K3M-Q9XA-2BFD-HT6W"');
    const done = await post(cookie, { csrf_token: csrf, code: '7K3M-Q9XA-2BFD-HT6W' });
    expect(done.statusCode).toBe(200);
    expect(heading(done.body)).toBe('Device added');
    expect(done.body).toContain('Environmental sensor');
    expect(services.calls.find((c) => c.subject === 'latchkey.device.v1.claim')?.request).toEqual({ tenant: 'demo', userId: USER_ID, code: '7K3M-Q9XA-2BFD-HT6W', clientIp: '127.0.0.1' });
  });

  it('shows the same words for every code that does not work', async () => {
    const { csrf, cookie } = await openForm();
    const pages: string[] = [];
    for (const code of ['invalid_grant', 'not_found', 'rate_limited'] as const) {
      services.handlers.set('latchkey.device.v1.claim', () => {
        throw new ContractError(code, 'internal reason');
      });
      const page = await post(cookie, { csrf_token: csrf, code: 'AAAA-BBBB-CCCC-DDDD' });
      expect(page.statusCode).toBe(200);
      pages.push(/<p class="error"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? '');
    }
    expect(new Set(pages).size).toBe(1);
    expect(pages[0]).toContain('That code did not work');
  });

  it('refuses a post without its CSRF token and claims nothing', async () => {
    const { cookie } = await openForm();
    const page = await post(cookie, { code: 'AAAA-BBBB-CCCC-DDDD' });
    expect(page.statusCode).toBe(403);
    expect(services.calls.filter((c) => c.subject === 'latchkey.device.v1.claim')).toEqual([]);
  });
});
