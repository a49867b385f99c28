// Policy enforcement at the HTTP edge (issue #6, ADR 0018) end to end: the gateway's guard asks the
// policy service (the default OPA policy, policies/README.md) about every device admin route and every
// command, and resource servers ask it through the OpenID AuthZEN API. The tenants file is the
// development one plus the people and apps of the scenario:
//   olga   operator at site north     vera   viewer (the whole tenant, read only)
//   fleet-viewer   an app with role viewer      no-role-service   an app with no role at all
//   ops-console    the web console olga and vera sign in to (devices:read devices:write)
// demo-service is `admin` (and `access:evaluate`), adam and bianca are `device-owner`.
//
// Clocks: as in delegation.e2e.spec.ts, the delegation service is moved to the next Tuesday 10:00 in
// Zurich; the gateway and the token service, which pin the time of a delegated token's policy
// decisions (use and issuance), are moved with it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { bearerJson, exchangeToken, nextWallClock, ShiftedClock, timeUntil } from './support/delegation.js';
import { devTenants, tenantsYaml } from './support/device.js';
import { clientCredentialsToken, DEMO_APP, userAccessToken, type WebClient } from './support/oauth.js';
import { DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, startE2eEnvironment, writeTenantsFile } from './support/platform.js';
import { ok, problem, type Problem } from './support/problems.js';

const ZURICH = 'Europe/Zurich';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const TUESDAY_10 = nextWallClock(Date.now(), 'tue', 10, ZURICH);
const clock = new ShiftedClock(TUESDAY_10 - Date.now());
const SHIFTED = { LATCHKEY_CLOCK_OFFSET_MS: String(clock.offsetMs) };

const OPS_CONSOLE: WebClient = { id: 'ops-console', secret: 'ops-console-secret', redirectUri: 'http://localhost:8081/callback' };
const FLEET_VIEWER = { id: 'fleet-viewer', secret: 'fleet-viewer-secret' };
const NO_ROLE = { id: 'no-role-service', secret: 'no-role-service-secret' };
const OLGA = { username: 'olga', password: 'olga-password' };
const VERA = { username: 'vera', password: 'vera-password' };
const ADAM = { username: 'adam', password: 'adam-password' };
const BIANCA = { username: 'bianca', password: 'bianca-password' };
const run = randomBytes(3).toString('hex');

interface Device {
  id: string;
  serial: string;
  status: string;
  ownerId: string | null;
  attributes: Record<string, unknown>;
}
interface Decision {
  decision: boolean;
  context?: { reason_admin?: { en: string }; error?: { status: number; message: string } };
}

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
let admin: string;
let olga: string;
let vera: string;
let fleetViewer: string;
let noRole: string;
let adam: string;
let bianca: string;
let ids: { olga: string; vera: string; adam: string; bianca: string };
let north: Device;
let south: Device;
let sensor: Device;

beforeAll(async () => {
  const tenants = devTenants();
  const demo = tenants.tenants[0]!;
  demo.users.push(
    { username: 'olga', password: 'olga-password', displayName: 'Olga', roles: ['operator'], attributes: { sites: ['north'] } },
    { username: 'vera', password: 'vera-password', displayName: 'Vera', roles: ['viewer'] },
  );
  demo.clients.push(
    { clientId: OPS_CONSOLE.id, secret: OPS_CONSOLE.secret, tokenEndpointAuthMethods: ['client_secret_basic'], grantTypes: ['authorization_code'], redirectUris: [OPS_CONSOLE.redirectUri], scopes: ['openid', 'devices:read', 'devices:write'] },
    { clientId: FLEET_VIEWER.id, secret: FLEET_VIEWER.secret, grantTypes: ['client_credentials'], scopes: ['devices:read', 'devices:write'], roles: ['viewer'] },
    { clientId: NO_ROLE.id, secret: NO_ROLE.secret, grantTypes: ['client_credentials'], scopes: ['devices:read', 'devices:write'] },
  );
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path, serviceEnv: { delegation: SHIFTED, gateway: SHIFTED, token: SHIFTED } });
  issuer = env.platform.issuer('demo');
  [admin, fleetViewer, noRole] = await Promise.all([
    clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read devices:write access:evaluate'),
    clientCredentialsToken(issuer, FLEET_VIEWER, 'devices:read devices:write'),
    clientCredentialsToken(issuer, NO_ROLE, 'devices:read devices:write'),
  ]);
  // One after the other: each signs in through the pages.
  olga = await userAccessToken(issuer, OLGA, 'openid devices:read devices:write', OPS_CONSOLE);
  vera = await userAccessToken(issuer, VERA, 'openid devices:read devices:write', OPS_CONSOLE);
  adam = await userAccessToken(issuer, ADAM, 'openid devices:read lock:unlock delegations:write', DEMO_APP);
  bianca = await userAccessToken(issuer, BIANCA, 'openid lock:unlock', DEMO_APP);
  ids = { olga: decodeJwt(olga).sub!, vera: decodeJwt(vera).sub!, adam: decodeJwt(adam).sub!, bianca: decodeJwt(bianca).sub! };
}, 180_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const devices = (path = '') => `${issuer}/admin/v1/devices${path}`;
const accessUrl = (path: string) => `${issuer}/access/v1/${path}`;

/** A policy denial: 403 problem+json whose reasons are the policy's, no WWW-Authenticate (the token is fine). */
function denied(result: HttpResult, reason: RegExp): Problem {
  const body = problem(result, 403);
  expect(body.reasons).toEqual(expect.arrayContaining([expect.stringMatching(reason)]));
  expect(result.headers.get('www-authenticate')).toBeNull();
  return body;
}

const evaluate = (body: unknown, token = admin) => bearerJson('POST', accessUrl('evaluation'), token, body);
const user = (id: string) => ({ type: 'user', id });

describe('an administrator (demo-service, role admin)', () => {
  it('may do everything: create, list, read, change, suspend, reactivate, credentials, audit, bulk', async () => {
    north = ok<{ device: Device }>(await bearerJson('POST', devices(), admin, { serial: `pe-north-${run}`, type: 'bike-lock', attributes: { site: 'north' }, activate: true }), 201).device;
    south = ok<{ device: Device }>(await bearerJson('POST', devices(), admin, { serial: `pe-south-${run}`, type: 'bike-lock', attributes: { site: 'south' }, activate: true }), 201).device;
    sensor = ok<{ device: Device }>(await bearerJson('POST', devices(), admin, { serial: `pe-sensor-${run}`, type: 'sensor', location: 'north', activate: true }), 201).device;
    expect(ok<{ items: Device[] }>(await bearerJson('GET', devices('?limit=500'), admin)).items.map((d) => d.id)).toEqual(expect.arrayContaining([north.id, south.id, sensor.id]));
    ok(await bearerJson('GET', devices(`/${south.id}`), admin));
    ok(await bearerJson('PATCH', devices(`/${south.id}`), admin, { model: 'Latch Two' }));
    ok(await bearerJson('POST', devices(`/${south.id}/suspend`), admin));
    ok(await bearerJson('POST', devices(`/${south.id}/reactivate`), admin));
    ok(await bearerJson('POST', devices(`/${south.id}/credentials`), admin, { kind: 'x509', thumbprint: randomBytes(32).toString('base64url') }), 201);
    ok(await bearerJson('GET', devices(`/${south.id}/audit`), admin));
    expect(ok<{ summary: { created: number } }>(await bearerJson('POST', devices('/bulk'), admin, [{ serial: `pe-bulk-${run}`, type: 'sensor' }])).summary.created).toBe(1);
  });
});

describe('an operator (olga: role operator, sites north)', () => {
  it('may suspend and reactivate a device at site north', async () => {
    expect(ok<{ device: Device }>(await bearerJson('POST', devices(`/${north.id}/suspend`), olga, { reason: 'maintenance' })).device.status).toBe('suspended');
    expect(ok<{ device: Device }>(await bearerJson('POST', devices(`/${north.id}/reactivate`), olga)).device.status).toBe('active');
  });

  it('may not suspend one at site south: 403 with the policy’s reason, and the device is unchanged', async () => {
    const body = denied(await bearerJson('POST', devices(`/${south.id}/suspend`), olga), /^out_of_scope: role operator permits devices\.suspend only on /);
    expect(body.detail).toMatch(/devices\.suspend/);
    expect(ok<{ device: Device }>(await bearerJson('GET', devices(`/${south.id}`), admin)).device.status).toBe('active');
  });

  it('may not decommission even at north (no role of hers permits it), nor provision in bulk', async () => {
    denied(await bearerJson('POST', devices(`/${north.id}/decommission`), olga), /^no_permission: /);
    denied(await bearerJson('POST', devices('/bulk'), olga, [{ serial: `pe-olga-${run}`, type: 'sensor' }]), /^no_permission: /);
  });

  it('may create a device at her site only', async () => {
    ok(await bearerJson('POST', devices(), olga, { serial: `pe-olga-n-${run}`, type: 'sensor', attributes: { site: 'north' } }), 201);
    denied(await bearerJson('POST', devices(), olga, { serial: `pe-olga-s-${run}`, type: 'sensor', attributes: { site: 'south' } }), /^out_of_scope: /);
  });

  it('gets a 403 for the whole tenant’s list, and may list her site', async () => {
    denied(await bearerJson('GET', devices(), olga), /^out_of_scope: /);
    const page = ok<{ items: Device[] }>(await bearerJson('GET', devices('?attr.site=north&limit=500'), olga));
    expect(page.items.map((d) => d.id)).toContain(north.id);
    expect(page.items.every((d) => d.attributes.site === 'north')).toBe(true);
    denied(await bearerJson('GET', devices('?attr.site=south'), olga), /^out_of_scope: /);
  });
});

describe('a viewer', () => {
  it('(vera, a person) may read any device and the whole list, but not suspend', async () => {
    ok(await bearerJson('GET', devices(`/${south.id}`), vera));
    ok(await bearerJson('GET', devices(`/${north.id}/audit`), vera));
    ok(await bearerJson('GET', devices('?limit=5'), vera));
    const refused = await bearerJson('POST', devices(`/${north.id}/suspend`), vera);
    expect(refused.status).toBe(403);
    // Whether her token carries devices:write depends on the token service's own policy question
    // (token.scope: devices:write is for admins and operators); either way she is refused.
    if ((decodeJwt(vera).scope as string).split(' ').includes('devices:write')) denied(refused, /^no_permission: /);
    else expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  it('(fleet-viewer, an app with role viewer) may list but not suspend', async () => {
    ok(await bearerJson('GET', devices('?limit=5'), fleetViewer));
    denied(await bearerJson('POST', devices(`/${north.id}/suspend`), fleetViewer), /^no_permission: /);
  });
});

describe('an app without roles (no-role-service)', () => {
  it('is denied everything, although its token has the scopes', async () => {
    expect((decodeJwt(noRole).scope as string).split(' ').sort()).toEqual(['devices:read', 'devices:write']);
    denied(await bearerJson('GET', devices(), noRole), /^no_permission: /);
    denied(await bearerJson('GET', devices(`/${north.id}`), noRole), /^no_permission: /);
    denied(await bearerJson('POST', devices(), noRole, { serial: `pe-nope-${run}`, type: 'sensor' }), /^no_permission: /);
  });

  it('still gets the route’s 404 for a device that does not exist (before the policy is asked)', async () => {
    problem(await bearerJson('GET', devices('/00000000-0000-4000-8000-000000000000'), noRole), 404);
  });
});

describe('a device owner (adam)', () => {
  it('may list his own devices, not the whole tenant’s', async () => {
    ok(await bearerJson('GET', devices(`?owner=${ids.adam}`), adam));
    denied(await bearerJson('GET', devices(), adam), /^out_of_scope: /);
  });
});

describe('the OpenID AuthZEN API', () => {
  it('publishes its PDP metadata', async () => {
    const metadata = ok<Record<string, string>>(await http(`${new URL(issuer).origin}/.well-known/authzen-configuration/t/demo`));
    expect(metadata).toEqual({ policy_decision_point: issuer, access_evaluation_endpoint: accessUrl('evaluation'), access_evaluations_endpoint: accessUrl('evaluations') });
  });

  it('answers the same as the enforcement above: olga may suspend at north, not at south (with the reason)', async () => {
    expect(ok<Decision>(await evaluate({ subject: user(ids.olga), action: { name: 'devices.suspend' }, resource: { type: 'device', id: north.serial } }))).toEqual({ decision: true });
    const refused = ok<Decision>(await evaluate({ subject: user(ids.olga), action: { name: 'devices.suspend' }, resource: { type: 'device', id: south.id } }));
    expect(refused).toMatchObject({ decision: false, context: { reason_admin: { en: expect.stringMatching(/out_of_scope: role operator permits devices\.suspend only on /) } } });
    expect(ok<Decision>(await evaluate({ subject: user(ids.vera), action: { name: 'devices.read' }, resource: { type: 'device', id: south.id } })).decision).toBe(true);
    expect(ok<Decision>(await evaluate({ subject: user(ids.vera), action: { name: 'devices.suspend' }, resource: { type: 'device', id: south.id } })).decision).toBe(false);
    expect(ok<Decision>(await evaluate({ subject: { type: 'client', id: NO_ROLE.id }, action: { name: 'devices.read' }, resource: { type: 'device', id: '*' } })).decision).toBe(false);
  });

  it('lets a sensor publish its own telemetry (no route for it: the resource server asks), and not unlock', async () => {
    const self = { type: 'device', id: sensor.id };
    expect(ok<Decision>(await evaluate({ subject: self, action: { name: 'device.telemetry.publish' }, resource: self }))).toEqual({ decision: true });
    expect(ok<Decision>(await evaluate({ subject: self, action: { name: 'device.telemetry.publish' }, resource: { type: 'device', id: north.id } })).decision).toBe(false);
    expect(ok<Decision>(await evaluate({ subject: self, action: { name: 'device.command.unlock' }, resource: self })).decision).toBe(false);
  });

  it('answers evaluations in order with the top-level defaults, one per entry, and short-circuits when asked', async () => {
    const body = {
      subject: user(ids.olga),
      action: { name: 'devices.suspend' },
      evaluations: [
        { resource: { type: 'device', id: north.id } },
        { resource: { type: 'device', id: south.id } },
        { resource: { type: 'device', id: `pe-missing-${run}` } },
        { action: { name: 'devices.read' }, resource: { type: 'device', id: north.id } },
      ],
    };
    const answered = ok<{ evaluations: Decision[] }>(await bearerJson('POST', accessUrl('evaluations'), admin, body));
    expect(answered.evaluations.map((e) => e.decision)).toEqual([true, false, false, true]);
    expect(answered.evaluations[2]?.context?.error).toEqual({ status: 404, message: 'no such device' });
    const shortened = ok<{ evaluations: Decision[] }>(await bearerJson('POST', accessUrl('evaluations'), admin, { ...body, options: { evaluations_semantic: 'deny_on_first_deny' } }));
    expect(shortened.evaluations.map((e) => e.decision)).toEqual([true, false]);
  });

  it('takes only a token with access:evaluate', async () => {
    expect((await evaluate({ subject: user(ids.olga), action: { name: 'devices.read' }, resource: { type: 'device', id: north.id } }, fleetViewer)).status).toBe(403);
    expect((await evaluate({ subject: user(ids.olga), action: { name: 'devices.read' }, resource: { type: 'device', id: north.id } }, olga)).status).toBe(403);
  });
});

describe('a delegated unlock (bianca for adam, lock-1, Tuesdays 09:00–12:00 in Zurich)', () => {
  let grantId: string;
  let token: string;
  /** The question a lock's backend would ask for bianca's delegated unlock (AuthZEN: adam, acted for by bianca under the grant). */
  const delegatedUnlock = () => ({ subject: { type: 'user', id: ids.adam, properties: { act: { sub: ids.bianca }, gid: grantId } }, action: { name: 'device.command.unlock' }, resource: { type: 'device', id: 'lock-1' } });

  it('is allowed inside the window: the policy decides for adam, narrowed by the grant', async () => {
    const lock = ok<{ items: Device[] }>(await bearerJson('GET', devices('?type=bike-lock&limit=500'), admin)).items.find((d) => d.serial === 'lock-1')!;
    if (lock.status !== 'active') ok(await bearerJson('POST', devices(`/${lock.id}/activate`), admin));
    const shared = await bearerJson('POST', `${issuer}/v1/delegations`, adam, {
      delegatee: { type: 'user', username: 'bianca' },
      resource: 'device:lock-1',
      scopes: ['lock:unlock'],
      expiresAt: clock.iso(14 * DAY),
      constraints: { timeZone: ZURICH, weekdays: ['tue'], timeOfDay: { from: '09:00', to: '12:00' } },
    });
    grantId = ok<{ grant: { id: string } }>(shared, 201).grant.id;
    expect(ok<Decision>(await evaluate(delegatedUnlock()))).toEqual({ decision: true });
    // Bianca's own token opens nothing of adam's: the policy's owner scope.
    denied(await bearerJson('POST', `${issuer}/v1/devices/lock-1/commands/unlock`, bianca), /^out_of_scope: /);
  });

  it('unlocks with her delegated token through the command route, the actor chain recorded', async () => {
    const exchanged = await exchangeToken(issuer, bianca, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP });
    token = ok<{ access_token: string }>(exchanged).access_token;
    const receipt = ok<{ actor: { id: string }; onBehalfOf: string; grantId: string; act: { sub: string } }>(await bearerJson('POST', `${issuer}/v1/devices/lock-1/commands/unlock`, token));
    expect(receipt).toEqual(expect.objectContaining({ actor: expect.objectContaining({ id: ids.bianca }), onBehalfOf: ids.adam, grantId, act: { sub: ids.bianca } }));
  });

  it('is denied by the policy outside the window: the gateway’s clock at 14:00 (the grant itself still usable)', async () => {
    await restartGateway({ LATCHKEY_CLOCK_OFFSET_MS: String(clock.offsetMs + 4 * HOUR) });
    try {
      expect(ok<Decision>(await evaluate(delegatedUnlock()))).toMatchObject({ decision: false, context: { reason_admin: { en: expect.stringMatching(/grant_outside_time_of_day: /) } } });
      if (token) denied(await bearerJson('POST', `${issuer}/v1/devices/lock-1/commands/unlock`, token), /^grant_outside_time_of_day: /);
    } finally {
      await restartGateway(SHIFTED);
    }
    expect(ok<Decision>(await evaluate(delegatedUnlock())).decision).toBe(true);
    expect(token).toBeDefined();
  }, 90_000);
});

/** Restarts the gateway with `extraEnv` and waits until it answers again. */
async function restartGateway(extraEnv: Record<string, string>): Promise<void> {
  await env.platform.stopService('gateway');
  env.platform.startService('gateway', extraEnv);
  const back = await timeUntil(async () => (await fetch(`${issuer}/.well-known/openid-configuration`).catch(() => null))?.status === 200, 30_000, 200);
  expect(back).toBeLessThan(Number.POSITIVE_INFINITY);
}

// Last: it stops the policy service.
describe('when the policy decision point is stopped', () => {
  it('refuses with 503 (never an allow) and heals once it is back', async () => {
    await env.platform.stopService('policy');
    try {
      // Inputs never decided before: no cached allow can answer for them.
      const suspended = problem(await bearerJson('POST', devices(`/${sensor.id}/suspend`), admin), 503);
      expect(suspended.detail).toMatch(/authorization is temporarily unavailable/);
      expect(JSON.stringify(suspended)).not.toMatch(/policy\.v1|nats|latchkey\./);
      problem(await bearerJson('GET', devices(`/${sensor.id}/audit?limit=1`), noRole), 503);
      problem(await evaluate({ subject: user(ids.olga), action: { name: 'devices.update' }, resource: { type: 'device', id: north.id } }), 503);
    } finally {
      env.platform.startService('policy');
    }
    // Healed: the suspension goes through — so the refused one did nothing (a second would be a 409).
    const healed = await timeUntil(async () => (await bearerJson('POST', devices(`/${sensor.id}/suspend`), admin)).status === 200, 60_000, 500);
    expect(healed).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(ok<{ device: Device }>(await bearerJson('GET', devices(`/${sensor.id}`), admin)).device.status).toBe('suspended');
  }, 120_000);
});
