// A simulated device with its own key pair, driven over HTTP like real firmware and an operator's
// tooling would: provisioned by the admin API, refused while provisioned, activated, token by
// private_key_jwt (client_id = its device id), suspended (its live token dies at once), reactivated,
// key rotated with overlap, decommissioned. And an unowned device bound to its owner by the RFC 8628
// device grant.
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decideDevice } from './support/device.js';
import { HttpBrowser } from './support/http-browser.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment } from './support/platform.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let env: E2eEnvironment;
let issuer: string;
let adminToken: string;

beforeAll(async () => {
  env = await startE2eEnvironment();
  issuer = env.platform.issuer('demo');
  const token = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read devices:write' }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret));
  expect(token.status).toBe(200);
  adminToken = (token.json as { access_token: string }).access_token;
}, 90_000);

afterAll(async () => {
  await env?.close();
});

/** The firmware's side: a key pair that never leaves the device, and the assertions it signs. */
class SimulatedDevice {
  id = '';
  private readonly keys = new Map<string, KeyObject>();

  constructor(readonly serial: string) {}

  newKey(kid: string): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.keys.set(kid, privateKey);
    return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  }

  assertion(kid: string, overrides: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid })).toString('base64url');
    const claims = { iss: this.id, sub: this.id, aud: `${issuer}/oauth2/token`, iat: now, exp: now + 60, jti: randomUUID(), ...overrides };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: this.keys.get(kid)!, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }

  requestToken(kid: string, assertion = this.assertion(kid)): Promise<HttpResult> {
    return postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', client_id: this.id, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
  }
}

const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
  http(`${issuer}/admin/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${adminToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

const introspect = async (token: string) => (await postForm(`${issuer}/oauth2/introspect`, { token }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret))).json as { active: boolean; [claim: string]: unknown };

/** Revocation travels as an event: allow it a second, as ARCHITECTURE promises. */
async function eventuallyInactive(token: string): Promise<void> {
  const deadline = Date.now() + 1000;
  while ((await introspect(token)).active) {
    if (Date.now() > deadline) throw new Error('the token is still active a second after its device lost the right to it');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const readOwnRegistration = (token: string) => http(`${issuer}/v1/devices/me`, { headers: { authorization: `Bearer ${token}` } });

const accessTokenOf = (result: HttpResult) => (result.json as { access_token: string }).access_token;

describe('a simulated device through its lifecycle', () => {
  const device = new SimulatedDevice(`e2e-lock-${randomUUID().slice(0, 8)}`);

  it('case=should refuse a token to a provisioned device and issue one once it is active', async () => {
    const created = await admin('/devices', { method: 'POST', body: { serial: device.serial, type: 'bike-lock', model: 'Latch One', credentials: [{ kind: 'jwk', jwk: device.newKey('k1') }] } });
    expect(created.status).toBe(201);
    const body = created.json as { device: { id: string; status: string } };
    expect(body.device.status).toBe('provisioned');
    device.id = body.device.id;

    const early = await device.requestToken('k1');
    expect({ status: early.status, error: (early.json as { error: string }).error }).toEqual({ status: 401, error: 'invalid_client' });

    expect((await admin(`/devices/${device.id}/activate`, { method: 'POST', body: { reason: 'installed on bike 17' } })).json).toMatchObject({ device: { status: 'active' } });
    const issued = await device.requestToken('k1');
    expect(issued.status).toBe(200);
    const claims = JSON.parse(Buffer.from(accessTokenOf(issued).split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: device.id, client_id: device.id, tenant: 'demo', device_type: 'bike-lock' });
    expect(claims.owner).toBeUndefined();
    expect((issued.json as { scope: string }).scope.split(' ').sort()).toEqual(['lock:state', 'telemetry:write']);
    expect(await introspect(accessTokenOf(issued))).toMatchObject({ active: true, sub: device.id, device_type: 'bike-lock' });
    // The shared token guard accepts it: the device reads its own registration.
    const me = await readOwnRegistration(accessTokenOf(issued));
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ device: { id: device.id, serial: device.serial, status: 'active' } });
  });

  it('case=should refuse a replayed assertion, a wrong audience and another device id', async () => {
    const assertion = device.assertion('k1');
    expect((await device.requestToken('k1', assertion)).status).toBe(200);
    expect((await device.requestToken('k1', assertion)).status).toBe(401);
    expect((await device.requestToken('k1', device.assertion('k1', { aud: 'https://elsewhere.example/token' }))).status).toBe(401);
    const impostor = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', client_id: randomUUID(), client_assertion_type: ASSERTION_TYPE, client_assertion: device.assertion('k1') });
    expect(impostor.status).toBe(401);
  });

  it('case=should kill the live token at once when the device is suspended, and issue again after reactivation', async () => {
    const token = accessTokenOf(await device.requestToken('k1'));
    expect((await admin(`/devices/${device.id}/suspend`, { method: 'POST', body: { reason: 'reported stolen' } })).json).toMatchObject({ device: { status: 'suspended' } });
    await eventuallyInactive(token);
    expect((await readOwnRegistration(token)).status).toBe(401);
    expect((await device.requestToken('k1')).status).toBe(401);

    expect((await admin(`/devices/${device.id}/reactivate`, { method: 'POST', body: { reason: 'found' } })).json).toMatchObject({ device: { status: 'active' } });
    // The old token stays dead; a new one works. (Tokens are revoked by their issue time: wait for the next second.)
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await device.requestToken('k1');
    expect(fresh.status).toBe(200);
    expect((await introspect(token)).active).toBe(false);
    expect((await introspect(accessTokenOf(fresh))).active).toBe(true);
  });

  it('case=should rotate keys with overlap and revoke the tokens when a key is revoked', async () => {
    const added = await admin(`/devices/${device.id}/credentials`, { method: 'POST', body: { kind: 'jwk', jwk: device.newKey('k2') } });
    expect(added.status).toBe(201);
    // Both keys work during the overlap.
    const viaOld = accessTokenOf(await device.requestToken('k1'));
    expect((await device.requestToken('k2')).status).toBe(200);

    const { credentials } = (await admin(`/devices/${device.id}`)).json as { credentials: Array<{ id: string; kid: string; status: string }> };
    const oldKey = credentials.find((credential) => credential.kid === 'k1')!;
    expect((await admin(`/devices/${device.id}/credentials/${oldKey.id}/revoke`, { method: 'POST', body: { reason: 'rotated' } })).status).toBe(200);
    await eventuallyInactive(viaOld);
    expect((await device.requestToken('k1')).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await device.requestToken('k2')).status).toBe(200);
  });

  it('case=should refuse everything after decommissioning, keep the serial taken, and show the whole story in the audit trail', async () => {
    const token = accessTokenOf(await device.requestToken('k2'));
    expect((await admin(`/devices/${device.id}/decommission`, { method: 'POST', body: { reason: 'end of life' } })).json).toMatchObject({ device: { status: 'decommissioned' } });
    await eventuallyInactive(token);
    expect((await device.requestToken('k2')).status).toBe(401);
    const illegal = await admin(`/devices/${device.id}/reactivate`, { method: 'POST', body: {} });
    expect(illegal.status).toBe(409);
    expect(illegal.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const again = await admin('/devices', { method: 'POST', body: { serial: device.serial, type: 'bike-lock' } });
    expect(again.status).toBe(409);

    const { credentials } = (await admin(`/devices/${device.id}`)).json as { credentials: Array<{ status: string; jwk: unknown }> };
    expect(credentials.every((credential) => credential.status === 'revoked' && credential.jwk === null)).toBe(true);
    const audit = (await admin(`/devices/${device.id}/audit?limit=50`)).json as { items: Array<{ event: string; fromStatus: string | null; toStatus: string | null; reason: string | null }> };
    expect(audit.items.map((item) => item.event).reverse()).toEqual(['created', 'activated', 'suspended', 'reactivated', 'credential_added', 'credential_revoked', 'decommissioned']);
    expect(audit.items[0]).toMatchObject({ fromStatus: 'active', toStatus: 'decommissioned', reason: 'end of life' });
  });
});

describe('the device grant binds an unowned device to the user who approves it', () => {
  it('case=should make adam the owner of an unowned device that he connects with the device flow', async () => {
    const device = new SimulatedDevice(`e2e-tv-lock-${randomUUID().slice(0, 8)}`);
    const created = await admin('/devices', { method: 'POST', body: { serial: device.serial, type: 'bike-lock', activate: true, credentials: [{ kind: 'jwk', jwk: device.newKey('k1') }] } });
    device.id = (created.json as { device: { id: string } }).device.id;

    const started = await postForm(`${issuer}/oauth2/device_authorization`, { client_id: device.id, client_assertion_type: ASSERTION_TYPE, client_assertion: device.assertion('k1') });
    expect(started.status).toBe(200);
    const { device_code: deviceCode, verification_uri_complete: verificationUri } = started.json as { device_code: string; verification_uri_complete: string };
    const browser = new HttpBrowser(new URL(issuer).origin);
    await decideDevice(browser, new URL(issuer).origin, verificationUri, 'allow');

    const adam = (await http(`${issuer}/admin/v1/devices/${device.id}`, { headers: { authorization: `Bearer ${adminToken}` } })).json as { device: { ownerId: string | null } };
    expect(adam.device.ownerId).toEqual(expect.any(String));
    const polled = await postForm(`${issuer}/oauth2/token`, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: device.id, client_assertion_type: ASSERTION_TYPE, client_assertion: device.assertion('k1') });
    expect(polled.status).toBe(200);
    const audit = (await admin(`/devices/${device.id}/audit`)).json as { items: Array<{ event: string; actor: { type: string; id: string } }> };
    expect(audit.items[0]).toMatchObject({ event: 'claimed', actor: { type: 'user', id: adam.device.ownerId } });
  });
});
