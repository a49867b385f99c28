// The delegations API, the device command endpoint and userinfo's `delegations` claim over HTTP inside
// one process: the real Fastify app, guard and controllers, with a scripted ContractClient in place of
// NATS. Every request the gateway sends is parsed with its contract; refusals must ask nobody.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type AccessTokenClaims, ContractError } from '@latchkey/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { apiCaller, expectProblem, GUARD_SUBJECTS, ScriptedServices, startScriptedGateway } from '../test/scripted-gateway.js';

const PUBLIC_URL = 'https://id.example';
const ISSUER = `${PUBLIC_URL}/t/demo`;
const GRANT_ID = '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f';
const DEVICE_ID = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';
const NOW = '2030-01-01T00:00:00.000Z';
const T = Math.floor(Date.now() / 1000);

const TENANTS = parseTenants(`tenants:
  - id: demo
  - id: other
`);

const claims = (overrides: Partial<AccessTokenClaims>): AccessTokenClaims => ({ iss: ISSUER, sub: 'user-adam', aud: 'demo-app', client_id: 'demo-app', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides });
const PERSON_SCOPES = 'openid delegations delegations:read delegations:write lock:unlock';

/** The tokens the scripted token service knows (all of tenant demo). */
const TOKENS: Record<string, AccessTokenClaims> = {
  adam: claims({ scope: PERSON_SCOPES }),
  bianca: claims({ sub: 'user-bianca', scope: PERSON_SCOPES }),
  adamReader: claims({ scope: 'openid delegations:read' }),
  biancaForAdam: claims({ aud: 'device:lock-1', scope: 'lock:unlock', act: { sub: 'user-bianca' }, gid: GRANT_ID }),
  biancaForAdamWithOpenid: claims({ aud: 'device:lock-1', scope: 'openid delegations lock:unlock', act: { sub: 'user-bianca' }, gid: GRANT_ID }),
  service: claims({ sub: 'demo-service', client_id: 'demo-service', scope: 'devices:read delegations:admin delegations:write' }),
};

const grant = (overrides: Record<string, unknown> = {}) => ({
  id: GRANT_ID,
  tenant: 'demo',
  delegator: { id: 'user-adam', name: 'adam' },
  delegatee: { type: 'user', id: 'user-bianca', name: 'bianca' },
  resource: 'device:lock-1',
  scopes: ['lock:unlock'],
  notBefore: NOW,
  expiresAt: NOW,
  constraints: null,
  redelegation: { allowed: false, maxDepth: 0 },
  depth: 0,
  parentId: null,
  status: 'active',
  uses: 0,
  createdAt: NOW,
  updatedAt: NOW,
  endedAt: null,
  endedBy: null,
  reason: null,
  ...overrides,
});

const lock = { id: DEVICE_ID, tenant: 'demo', serial: 'lock-1', type: 'bike-lock', model: null, firmwareVersion: null, location: null, attributes: {}, ownerId: 'user-adam', status: 'active', createdAt: NOW, updatedAt: NOW, lastSeenAt: null };

/** The guard's own questions (the token, who the subject is, the policy) are recorded apart from the route's calls. */
/**
 * A stand-in for the default policy's command rules: a `device-owner` may command the devices they own;
 * a delegated subject only within its grant's scopes and resource. (The real policy has its own tests.)
 */
function scriptedPolicy({ subject, resource, context }: Record<string, unknown>) {
  const who = subject as { id: string; roles?: string[]; gid?: string };
  const what = resource as { attributes?: { ownerId?: string; serial?: string } };
  const grant = (context as { grant?: { resource: string } }).grant;
  if (who.gid && (!grant || grant.resource !== `device:${what.attributes?.serial}`)) return { allow: false, reasons: ['grant_resource_mismatch: the grant covers another device'], policyVersion: 't' };
  if (who.roles?.includes('device-owner') && what.attributes?.ownerId === who.id) {
    return { allow: true, reasons: ['role device-owner permits it'], policyVersion: 't', ...(who.gid ? { obligations: { audit: { act: (subject as { act: unknown }).act } } } : {}) };
  }
  return { allow: false, reasons: ['out_of_scope: role device-owner permits this only on resources the subject owns'], policyVersion: 't' };
}


const services = new ScriptedServices(GUARD_SUBJECTS);
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
    ['latchkey.policy.v1.decide', scriptedPolicy],
    ['latchkey.identity.v1.get-user', ({ userId }) => ({ user: { id: userId, tenant: 'demo', username: String(userId), status: 'active', roles: ['device-owner'], attributes: {} } })],
    ['latchkey.token.v1.verify-access-token', ({ tenant, token }) => (tenant === 'demo' && TOKENS[token as string] ? { active: true, claims: TOKENS[token as string] } : { active: false })],
    ['latchkey.delegation.v1.create', () => ({ grant: grant() })],
    ['latchkey.delegation.v1.list', () => ({ items: [grant()], nextCursor: 'next-1' })],
    ['latchkey.delegation.v1.get', () => ({ grant: grant(), audit: [] })],
    ['latchkey.delegation.v1.revoke', () => ({ grant: grant({ status: 'revoked' }), alsoRevoked: [] })],
    ['latchkey.delegation.v1.decline', () => ({ grant: grant({ status: 'declined' }) })],
    ['latchkey.delegation.v1.check', () => ({ usable: true, grant: grant() })],
    ['latchkey.device.v1.get', () => ({ device: lock, credentials: [] })],
    ['latchkey.device.v1.find-by-serial', ({ serial }) => {
      if (serial !== 'lock-1') throw new ContractError('not_found', 'no such device');
      return { device: lock };
    }],
    ['latchkey.device.v1.record-command', () => ({ commandId: 'cmd-1', device: lock, at: NOW })],
    ['latchkey.identity.v1.get-user-claims', ({ userId }) => ({ claims: { sub: userId, preferred_username: 'bianca' } })],
    ['latchkey.token.v1.issue-delegated-tokens', () => ({ delegations: { adam: { access_token: 'delegated', token_type: 'Bearer', expires_in: 300, scope: ['lock:unlock'], resource: 'device:lock-1', grant_id: GRANT_ID } } })],
  ]);
});



const NEW_GRANT = { delegatee: { type: 'user', username: 'bianca' }, resource: 'device:lock-1', scopes: ['lock:unlock'], expiresAt: '2030-01-15T00:00:00Z', constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } };

describe('the delegations API', () => {
  it('creates a grant with the caller as the delegator: 201 with Location', async () => {
    const response = await call('POST', '/v1/delegations', { token: 'adam', json: NEW_GRANT });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toBe(`${ISSUER}/v1/delegations/${GRANT_ID}`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(services.calls).toEqual([{ subject: 'latchkey.delegation.v1.create', request: expect.objectContaining({ tenant: 'demo', actor: { type: 'user', id: 'user-adam' }, resource: 'device:lock-1', scopes: ['lock:unlock'] }) }]);
  });

  it('refuses a body that names the delegator or the tenant, or is invalid (422), and asks nobody', async () => {
    const named = expectProblem(await call('POST', '/v1/delegations', { token: 'adam', json: { ...NEW_GRANT, actor: { type: 'user', id: 'user-carl' } } }), 422);
    expect(JSON.stringify(named.errors)).toContain('actor');
    expectProblem(await call('POST', '/v1/delegations', { token: 'adam', json: { ...NEW_GRANT, tenant: 'other' } }), 422);
    const invalid = expectProblem(await call('POST', '/v1/delegations', { token: 'adam', json: { ...NEW_GRANT, resource: 'lock-1', scopes: [] } }), 422);
    expect(invalid.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/resource' }), expect.objectContaining({ pointer: '/scopes' })]));
    expectProblem(await call('POST', '/v1/delegations', { token: 'adam' }), 400);
    expect(services.calls).toEqual([]);
  });

  it('refuses a delegated token (Bianca may not share "as Adam"), an app token and a token without the scope', async () => {
    const delegated = expectProblem(await call('POST', '/v1/delegations', { token: 'biancaForAdam', json: NEW_GRANT }), 403);
    expect(delegated.detail).toMatch(/delegated token/);
    expectProblem(await call('GET', '/v1/delegations?role=delegator', { token: 'biancaForAdam' }), 403);
    expectProblem(await call('POST', '/v1/delegations', { token: 'service', json: NEW_GRANT }), 403);
    expectProblem(await call('POST', '/v1/delegations', { token: 'adamReader', json: NEW_GRANT }), 403);
    expect(services.calls).toEqual([]);
  });

  it('maps the delegation service’s refusals: forbidden 403, validation_failed 422, conflict 409', async () => {
    services.handlers.set('latchkey.delegation.v1.create', () => {
      throw new ContractError('forbidden', 'you do not own device:lock-1');
    });
    expect(expectProblem(await call('POST', '/v1/delegations', { token: 'bianca', json: NEW_GRANT }), 403).detail).toBe('you do not own device:lock-1');
    services.handlers.set('latchkey.delegation.v1.create', () => {
      throw new ContractError('validation_failed', 'the window is in the past');
    });
    expectProblem(await call('POST', '/v1/delegations', { token: 'adam', json: NEW_GRANT }), 422);
    services.handlers.set('latchkey.delegation.v1.revoke', () => {
      throw new ContractError('conflict', 'the grant is no longer active');
    });
    expectProblem(await call('POST', `/v1/delegations/${GRANT_ID}/revoke`, { token: 'adam' }), 409);
  });

  it('lists the caller’s grants by role with an RFC 8288 next link; role is required, unknown parameters refused', async () => {
    const response = await call('GET', '/v1/delegations?role=delegatee&status=active&limit=2', { token: 'bianca' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.link).toBe(`<${ISSUER}/v1/delegations?role=delegatee&status=active&limit=2&cursor=next-1>; rel="next"`);
    expect(services.calls[0]?.request).toEqual({ tenant: 'demo', role: 'delegatee', party: { type: 'user', id: 'user-bianca' }, status: 'active', limit: 2 });
    expect(expectProblem(await call('GET', '/v1/delegations', { token: 'bianca' }), 400).errors).toEqual([expect.objectContaining({ parameter: 'role' })]);
    expect(expectProblem(await call('GET', '/v1/delegations?role=delegator&party=user-adam', { token: 'bianca' }), 400).errors).toEqual([expect.objectContaining({ parameter: 'party' })]);
    expect(services.calls).toHaveLength(1);
  });

  it('reads, revokes and declines as the caller (admin false); a grant id that is not a UUID is a 404', async () => {
    expect((await call('GET', `/v1/delegations/${GRANT_ID}`, { token: 'adamReader' })).statusCode).toBe(200);
    expect((await call('POST', `/v1/delegations/${GRANT_ID}/revoke`, { token: 'adam', json: { reason: 'lent the bike back' } })).statusCode).toBe(200);
    expect((await call('POST', `/v1/delegations/${GRANT_ID}/decline`, { token: 'bianca' })).statusCode).toBe(200);
    expect(services.calls.map((c) => [c.subject, c.request])).toEqual([
      ['latchkey.delegation.v1.get', { tenant: 'demo', grantId: GRANT_ID, actor: { type: 'user', id: 'user-adam' }, admin: false }],
      ['latchkey.delegation.v1.revoke', { tenant: 'demo', grantId: GRANT_ID, actor: { type: 'user', id: 'user-adam' }, admin: false, reason: 'lent the bike back' }],
      ['latchkey.delegation.v1.decline', { tenant: 'demo', grantId: GRANT_ID, actor: { type: 'user', id: 'user-bianca' } }],
    ]);
    expectProblem(await call('GET', '/v1/delegations/not-a-uuid', { token: 'adam' }), 404);
    expectProblem(await call('POST', `/v1/delegations/${GRANT_ID}/revoke`, { token: 'adam', json: { reason: 'x', extra: 1 } }), 422);
    expect(services.calls).toHaveLength(3);
  });

  it('lets an administrator (delegations:admin, any actor) revoke any grant, and nobody else', async () => {
    expect((await call('POST', `/admin/v1/delegations/${GRANT_ID}/revoke`, { token: 'service', json: { reason: 'abuse' } })).statusCode).toBe(200);
    expect(services.calls[0]?.request).toEqual({ tenant: 'demo', grantId: GRANT_ID, actor: { type: 'client', id: 'demo-service' }, admin: true, reason: 'abuse' });
    expectProblem(await call('POST', `/admin/v1/delegations/${GRANT_ID}/revoke`, { token: 'adam' }), 403);
    expectProblem(await call('POST', `/admin/v1/delegations/${GRANT_ID}/revoke`, { token: 'biancaForAdam' }), 403);
    expect(services.calls).toHaveLength(1);
  });
});

describe('device commands', () => {
  it('lets the owner unlock their lock by serial with their own token, recorded as theirs', async () => {
    const response = await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'adam' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ commandId: 'cmd-1', device: { id: DEVICE_ID, serial: 'lock-1' }, command: 'unlock', actor: { type: 'user', id: 'user-adam' }, onBehalfOf: null, grantId: null, act: null, at: NOW });
    expect(services.subjects()).toEqual(['latchkey.device.v1.find-by-serial', 'latchkey.device.v1.record-command']);
    expect(services.calls[1]?.request).toEqual({ tenant: 'demo', deviceId: DEVICE_ID, command: 'unlock', actor: { type: 'user', id: 'user-adam' }, onBehalfOf: null, grantId: null });
  });

  it('resolves a UUID as the device id', async () => {
    expect((await call('POST', `/v1/devices/${DEVICE_ID}/commands/lock`, { token: 'adam' })).statusCode).toBe(200);
    expect(services.calls[0]).toEqual({ subject: 'latchkey.device.v1.get', request: { tenant: 'demo', deviceId: DEVICE_ID } });
  });

  it('accepts Bianca’s delegated token after checking its grant: recorded as Bianca, for Adam, under the grant', async () => {
    const response = await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'biancaForAdam' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-adam', grantId: GRANT_ID });
    expect(services.subjects()).toEqual(['latchkey.delegation.v1.check', 'latchkey.device.v1.find-by-serial', 'latchkey.device.v1.record-command']);
    expect(services.calls[2]?.request).toMatchObject({ actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-adam', grantId: GRANT_ID });
    // The policy's audit obligation: the actor chain goes with the recorded command.
    expect(response.json()).toMatchObject({ act: { sub: 'user-bianca' } });
  });

  it('asks the policy for the person acted for (sub), with act, gid, the grant as checked now and a pinned time, never cached', async () => {
    for (let i = 0; i < 2; i++) expect((await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'biancaForAdam' })).statusCode).toBe(200);
    expect(services.decisions).toHaveLength(2);
    const [input] = services.decisions;
    expect(input).toMatchObject({
      subject: { type: 'user', id: 'user-adam', roles: ['device-owner'], scopes: ['lock:unlock'], act: { sub: 'user-bianca' }, gid: GRANT_ID },
      action: { name: 'device.command.unlock' },
      resource: { type: 'device', id: DEVICE_ID, attributes: { serial: 'lock-1', ownerId: 'user-adam', status: 'active', type: 'bike-lock', tenant: 'demo' } },
      context: {
        grant: { id: GRANT_ID, status: 'active', delegatee: 'user-bianca', resource: 'device:lock-1', scopes: ['lock:unlock'], notBefore: NOW, expiresAt: NOW, constraints: null },
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect(Math.abs(Date.parse((input!.context as { time: string }).time) - Date.now())).toBeLessThan(5000);
  });

  it('decides configure as device.command.configure and lock as device.command.unlock', async () => {
    await call('POST', '/v1/devices/lock-1/commands/lock', { token: 'adam' });
    TOKENS.adamConfigure = claims({ scope: 'lock:configure' });
    await call('POST', '/v1/devices/lock-1/commands/configure', { token: 'adamConfigure' });
    expect(services.decisions.map((d) => (d.action as { name: string }).name)).toEqual(['device.command.unlock', 'device.command.configure']);
  });

  it('refuses a command the policy denies with its reasons, recording nothing', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => ({ allow: false, reasons: ['device_not_active: device.command.unlock needs an active device (it is suspended)'], policyVersion: 't' }));
    const body = expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'adam' }), 403);
    expect(body.reasons).toEqual([expect.stringMatching(/^device_not_active/)]);
    expect(services.subjects()).toEqual(['latchkey.device.v1.find-by-serial']);
  });

  it('answers 503 when the decision point does not answer, recording nothing', async () => {
    services.handlers.set('latchkey.policy.v1.decide', () => {
      throw new ContractError('unavailable', 'no timely reply on latchkey.policy.v1.decide');
    });
    const body = expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'biancaForAdam' }), 503);
    expect(body.detail).not.toMatch(/latchkey/);
    expect(services.subjects()).not.toContain('latchkey.device.v1.record-command');
  });

  it('refuses the delegated token once its grant is no longer usable (401), and records nothing', async () => {
    services.handlers.set('latchkey.delegation.v1.check', () => ({ usable: false, reason: 'revoked' }));
    const body = expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'biancaForAdam' }), 401);
    expect(body).toMatchObject({ detail: 'the delegation no longer allows this', reason: 'revoked' });
    expect(services.subjects()).toEqual(['latchkey.delegation.v1.check']);
  });

  it('refuses a scope the grant does not give (configure needs lock:configure)', async () => {
    expectProblem(await call('POST', '/v1/devices/lock-1/commands/configure', { token: 'biancaForAdam' }), 403);
    expect(services.subjects()).not.toContain('latchkey.device.v1.record-command');
  });

  it('refuses Bianca’s own token on Adam’s lock (403, the policy) and a delegated token for another device (its aud)', async () => {
    expect(expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'bianca' }), 403).reasons).toEqual([expect.stringMatching(/^out_of_scope/)]);
    services.handlers.set('latchkey.device.v1.find-by-serial', () => ({ device: { ...lock, serial: 'lock-2' } }));
    expectProblem(await call('POST', '/v1/devices/lock-2/commands/unlock', { token: 'biancaForAdam' }), 403);
    expect(services.subjects()).not.toContain('latchkey.device.v1.record-command');
  });

  it('answers 404 for an unknown device and an unknown command, 409 for a device that is not active', async () => {
    expectProblem(await call('POST', '/v1/devices/lock-404/commands/unlock', { token: 'adam' }), 404);
    expectProblem(await call('POST', '/v1/devices/lock-1/commands/explode', { token: 'adam' }), 404);
    services.handlers.set('latchkey.device.v1.record-command', () => {
      throw new ContractError('conflict', 'a suspended device takes no commands', { status: 'suspended' });
    });
    expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'adam' }), 409);
  });

  it('refuses a token of another tenant (401)', async () => {
    expectProblem(await call('POST', '/v1/devices/lock-1/commands/unlock', { token: 'adam', tenant: 'other' }), 401);
    expect(services.calls).toEqual([]);
  });
});

describe('userinfo with the delegations scope', () => {
  it('adds the delegations claim for a person’s own token, issued to its client', async () => {
    const response = await fastify.inject({ method: 'GET', url: '/t/demo/oauth2/userinfo', headers: { authorization: 'Bearer bianca' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ sub: 'user-bianca', preferred_username: 'bianca', delegations: { adam: expect.objectContaining({ access_token: 'delegated', grant_id: GRANT_ID }) } });
    expect(services.calls.at(-1)).toEqual({ subject: 'latchkey.token.v1.issue-delegated-tokens', request: { tenant: 'demo', userId: 'user-bianca', clientId: 'demo-app' } });
  });

  it('adds nothing without the scope, and never for a delegated token', async () => {
    TOKENS.plain = claims({ sub: 'user-bianca', scope: 'openid profile' });
    expect((await fastify.inject({ method: 'GET', url: '/t/demo/oauth2/userinfo', headers: { authorization: 'Bearer plain' } })).json()).not.toHaveProperty('delegations');
    expect((await fastify.inject({ method: 'GET', url: '/t/demo/oauth2/userinfo', headers: { authorization: 'Bearer biancaForAdamWithOpenid' } })).json()).not.toHaveProperty('delegations');
    expect(services.subjects()).not.toContain('latchkey.token.v1.issue-delegated-tokens');
  });

  it('is unavailable (503 OAuth JSON) rather than silently empty when the token service cannot issue them', async () => {
    services.handlers.set('latchkey.token.v1.issue-delegated-tokens', () => {
      throw new ContractError('unavailable', 'no timely reply');
    });
    const response = await fastify.inject({ method: 'GET', url: '/t/demo/oauth2/userinfo', headers: { authorization: 'Bearer bianca' } });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
