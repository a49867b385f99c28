// Scopes are granted only where policy allows (ARCHITECTURE flow 1, docs/adr/0023), end to end with the
// real policy service and its default Rego policy: the token endpoint's client_credentials scopes are
// what the client is registered for AND what `token.scope` allows. The token service's integration tests
// use a stand-in at the DecideBatch contract; this file proves the real decision point.
//
// Tenants: `demo` from config/tenants.dev.yaml, extended (tenants[].policy.data, as a tenant would) so
// that devices:write is restricted for clients too — the default policy restricts it for people only
// (policies/README.md) — plus a client whose roles lack admin/operator; and `plain`, on the default
// policy as it is, to pin what the default leaves to a client's registration.
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { timeUntil } from './support/delegation.js';
import { devTenants, tenantsYaml } from './support/device.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REPORTER = { id: 'demo-reporter', secret: 'demo-reporter-secret' };
const PLAIN_REPORTER = { id: 'plain-reporter', secret: 'plain-reporter-secret' };

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
/** What demo-service and a bike-lock are registered for in the development tenants file. */
let demoServiceScopes: string[];
let bikeLockScopes: string[];

beforeAll(async () => {
  const tenants = devTenants();
  const demo = tenants.tenants.find((tenant) => tenant.id === 'demo')!;
  demoServiceScopes = demo.clients.find((client) => client.clientId === DEMO_CLIENT.id)!.scopes as string[];
  bikeLockScopes = (demo.deviceTypes as { type: string; scopes: string[] }[]).find((deviceType) => deviceType.type === 'bike-lock')!.scopes;
  // A back-office reader: registered for devices:write, but its roles do not allow it.
  demo.clients.push({
    clientId: REPORTER.id,
    secret: REPORTER.secret,
    grantTypes: ['client_credentials'],
    scopes: ['devices:read', 'devices:write'],
    roles: ['viewer'],
  });
  const policy = (demo.policy ?? {}) as { data?: Record<string, unknown> };
  const data = policy.data ?? {};
  demo.policy = {
    ...policy,
    data: { ...data, scopes: { ...((data.scopes as Record<string, unknown> | undefined) ?? {}), 'devices:write': { subjectTypes: ['user', 'client'], roles: ['admin', 'operator'] } } },
  };
  tenants.tenants.push({
    id: 'plain',
    clients: [{ clientId: PLAIN_REPORTER.id, secret: PLAIN_REPORTER.secret, grantTypes: ['client_credentials'], scopes: ['devices:read', 'devices:write'], roles: ['viewer'] }],
    users: [],
  });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  issuer = env.platform.issuer('demo');
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const tokenRequest = (client: { id: string; secret: string }, scope?: string, tenantIssuer = issuer) =>
  postForm(`${tenantIssuer}/oauth2/token`, { grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) }, basicAuth(client.id, client.secret));

function granted(result: HttpResult): string[] {
  expect(result.status).toBe(200);
  const body = result.json as { access_token: string; scope?: string };
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString('utf8')) as { scope?: string };
  // The response says what the token carries.
  expect(claims.scope).toBe(body.scope);
  return body.scope?.split(' ') ?? [];
}

const oauthError = (result: HttpResult) => ({ status: result.status, error: (result.json as { error?: string } | undefined)?.error });

/** A device's side: its own key pair and the RFC 7523 assertions it signs. */
class SimulatedDevice {
  id = '';
  private readonly key: KeyObject;
  readonly jwk: Record<string, unknown>;

  constructor(readonly serial: string) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.key = privateKey;
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  }

  requestToken(): Promise<HttpResult> {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${encode({ iss: this.id, sub: this.id, aud: `${issuer}/oauth2/token`, iat: now, exp: now + 60, jti: randomUUID() })}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: this.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', client_id: this.id, client_assertion_type: ASSERTION_TYPE, client_assertion: `${signingInput}.${signature}` });
  }
}

describe('client_credentials scopes decided by the real policy service', () => {
  it('gives demo-service (role admin) devices:read and devices:write, by default (every registered scope) and when asked', async () => {
    expect(demoServiceScopes).toEqual(expect.arrayContaining(['devices:read', 'devices:write']));
    expect(granted(await tokenRequest(DEMO_CLIENT))).toEqual(demoServiceScopes);
    expect(granted(await tokenRequest(DEMO_CLIENT, 'devices:write'))).toEqual(['devices:write']);
  });

  it('leaves devices:write out for a client whose roles lack admin and operator, and refuses it when it is all that is asked', async () => {
    expect(granted(await tokenRequest(REPORTER))).toEqual(['devices:read']);
    expect(granted(await tokenRequest(REPORTER, 'devices:read devices:write'))).toEqual(['devices:read']);
    const refused = await tokenRequest(REPORTER, 'devices:write');
    expect(oauthError(refused)).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('leaves devices:write to a client\'s registration under the default policy, which restricts it for people only', async () => {
    expect(granted(await tokenRequest(PLAIN_REPORTER, undefined, env.platform.issuer('plain')))).toEqual(['devices:read', 'devices:write']);
  });

  it('gives an active bike-lock its type\'s scopes, lock:state and telemetry:write', async () => {
    const admin = ((await tokenRequest(DEMO_CLIENT)).json as { access_token: string }).access_token;
    const device = new SimulatedDevice(`e2e-scope-lock-${randomUUID().slice(0, 8)}`);
    const created = await http(`${issuer}/admin/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serial: device.serial, type: 'bike-lock', activate: true, credentials: [{ kind: 'jwk', jwk: device.jwk }] }),
    });
    expect(created.status).toBe(201);
    device.id = (created.json as { device: { id: string } }).device.id;
    expect(bikeLockScopes).toEqual(expect.arrayContaining(['lock:state', 'telemetry:write']));
    expect(granted(await device.requestToken())).toEqual(bikeLockScopes);
  });

  it('case=should answer 503 temporarily_unavailable for a scope not decided yet while the policy service is down, and heal after its restart', async () => {
    await env.platform.stopService('policy');
    try {
      // devices:write was denied to demo-reporter before: denials are never reused, so it must be asked again.
      const started = performance.now();
      const refused = await tokenRequest(REPORTER);
      expect(oauthError(refused)).toEqual({ status: 503, error: 'temporarily_unavailable' });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      env.platform.startService('policy');
    }
    await env.platform.waitForReady(60_000);
    const healedAfterMs = await timeUntil(async () => (await tokenRequest(REPORTER)).status === 200, 20_000, 200);
    expect(healedAfterMs).toBeLessThan(20_000);
    expect(granted(await tokenRequest(REPORTER))).toEqual(['devices:read']);
  }, 90_000);
});
