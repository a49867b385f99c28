// RFC 8628 device authorization grant, end to end: openid-client as the TV (public client demo-tv)
// initiates and polls, while a headless Chromium signs in at verification_uri_complete and approves.
// Deny, the polling errors, expiry and the per-IP user-code lockout are driven over raw HTTP. The
// lockout runs in a second tenant (`guess`) so that it cannot lock the other tests out.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { decideDevice, devTenants, headingOf, tenantsYaml } from './support/device.js';
import { formOf, HttpBrowser } from './support/http-browser.js';
import { type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const TV = 'demo-tv';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CODE_NOT_VALID = 'That code is not valid.';

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
let browser: Browser;

beforeAll(async () => {
  const tenants = devTenants();
  tenants.tenants.push({ ...structuredClone(tenants.tenants[0]!), id: 'guess', displayName: 'Guessing tenant' });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  [env, browser] = await Promise.all([
    startE2eEnvironment({ tenantsFile: tenantsFile.path }),
    launchChromium(),
  ]);
  issuer = env.platform.issuer('demo');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await env?.close();
  tenantsFile?.remove();
});

const insecure = { execute: [client.allowInsecureRequests] };
const tvClient = (tenantIssuer = issuer) => client.discovery(new URL(tenantIssuer), TV, undefined, client.None(), insecure);

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function deviceAuthorization(tenantIssuer = issuer, scope = 'openid devices:read'): Promise<DeviceAuthorization> {
  const answer = await postForm(`${tenantIssuer}/oauth2/device_authorization`, { client_id: TV, scope });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  return answer.json as DeviceAuthorization;
}

const poll = (deviceCode: string) => postForm(`${issuer}/oauth2/token`, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: TV });

/** RFC 8628 §3.5 / RFC 6749 §5.2: 400, JSON, no-store, the error code and nothing but the standard members. */
function expectDeviceError(answer: HttpResult, error: string) {
  expect(answer.status).toBe(400);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  const body = answer.json as Record<string, unknown>;
  expect(body.error).toBe(error);
  expect(Object.keys(body).every((key) => ['error', 'error_description', 'error_uri'].includes(key))).toBe(true);
}

describe('device authorization endpoint', () => {
  it('answers RFC 8628 §3.2 and is advertised in discovery', async () => {
    const metadata = (await http(`${issuer}/.well-known/openid-configuration`)).json as Record<string, unknown>;
    expect(metadata.device_authorization_endpoint).toBe(`${issuer}/oauth2/device_authorization`);
    expect(metadata.grant_types_supported).toContain(DEVICE_CODE_GRANT);

    const authorization = await deviceAuthorization();
    expect(authorization).toEqual({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${issuer}/device`,
      verification_uri_complete: `${issuer}/device?user_code=${authorization.user_code}`,
      // The token service's defaults (ADR 0014); its lifetime is not configurable per deployment yet.
      expires_in: 600,
      interval: 5,
    });
  });

  it('refuses a client not registered for the device grant (unauthorized_client) and bad client authentication (invalid_client)', async () => {
    expect((await postForm(`${issuer}/oauth2/device_authorization`, { client_id: 'demo-app' })).json).toMatchObject({ error: 'unauthorized_client' });
    const unknown = await postForm(`${issuer}/oauth2/device_authorization`, { client_id: 'nobody' });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toMatchObject({ error: 'invalid_client' });
  });
});

describe('device grant with openid-client and a browser', () => {
  it('signs in at verification_uri_complete, approves, and the poll yields tokens', async () => {
    const config = await tvClient();
    const response = await client.initiateDeviceAuthorization(config, { scope: 'openid devices:read offline_access' });
    expect(response.verification_uri_complete).toBe(`${issuer}/device?user_code=${response.user_code}`);
    const polled = client.pollDeviceAuthorizationGrant(config, response);

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(response.verification_uri_complete!);
      expect(await page.locator('h1').textContent()).toBe('Connect a device');
      expect(await page.inputValue('#user_code')).toBe(response.user_code);
      await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      await page.fill('#username', 'adam');
      await page.fill('#password', 'adam-password');
      await Promise.all([page.waitForURL(/\/device\/confirm/), page.click('button[type=submit]')]);
      expect(await page.locator('h1').textContent()).toBe('Connect this device?');
      expect(await page.locator('.user-code').textContent()).toBe(response.user_code);
      expect(await page.locator('ul.scopes li').allTextContents()).toEqual([
        'Know who you are when you sign inopenid',
        'See your devices and their statusdevices:read',
        'Keep access while you are not using the appoffline_access',
      ]);
      await Promise.all([page.waitForLoadState(), page.click('button[value=allow]')]);
      expect(await page.locator('h1').textContent()).toBe('Device connected');

      const tokens = await polled;
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const claims = tokens.claims()!;
      const session = (await context.cookies()).find((cookie) => cookie.name === 'latchkey-session-demo')!;
      expect(claims).toMatchObject({ iss: issuer, aud: TV, amr: ['pwd'], acr: 'urn:latchkey:loa:1', sid: createHash('sha256').update(`latchkey.sid.v1:${session.value}`).digest('base64url') });
      const introspection = await client.tokenIntrospection(await client.discovery(new URL(issuer), 'demo-service', 'demo-service-secret', undefined, insecure), tokens.access_token);
      expect(introspection).toMatchObject({ active: true, client_id: TV, scope: 'openid devices:read offline_access', sub: claims.sub });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ends the poll with access_denied when the person denies', async () => {
    const config = await tvClient();
    const response = await client.initiateDeviceAuthorization(config, { scope: 'devices:read' });
    const polled = client.pollDeviceAuthorizationGrant(config, response).then(
      () => undefined,
      (error: unknown) => error,
    );
    const done = await decideDevice(new HttpBrowser(env.platform.url), env.platform.url, response.verification_uri_complete!, 'deny');
    expect(headingOf(done.text)).toBe('Access denied');
    const error = (await polled) as client.ResponseBodyError;
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect(error.error).toBe('access_denied');
    expect(error.status).toBe(400);
  }, 60_000);
});

describe('polling errors over raw HTTP (RFC 8628 §3.5)', () => {
  it('authorization_pending, then slow_down for a poll sooner than the interval', async () => {
    const { device_code: deviceCode } = await deviceAuthorization();
    expectDeviceError(await poll(deviceCode), 'authorization_pending');
    expectDeviceError(await poll(deviceCode), 'slow_down');
  });

  it('access_denied after a denial, and the code cannot be decided again', async () => {
    const authorization = await deviceAuthorization();
    const pages = new HttpBrowser(env.platform.url);
    expect(headingOf((await decideDevice(pages, env.platform.url, authorization.verification_uri_complete, 'deny')).text)).toBe('Access denied');
    expectDeviceError(await poll(authorization.device_code), 'access_denied');
    // The decided code is not valid on the page any more.
    const entry = await pages.get(authorization.verification_uri_complete);
    const again = await pages.post(formOf(entry.text).action, { ...formOf(entry.text).fields, user_code: authorization.user_code });
    expect(again.text).toContain(CODE_NOT_VALID);
  });

  it('expired_token once the code has expired', async () => {
    const authorization = await deviceAuthorization();
    expect(authorization.expires_in).toBe(600);
    // The lifetime is not configurable from outside the token service: expire the row instead.
    const database = new pg.Client({ connectionString: env.databaseUrl });
    await database.connect();
    try {
      const hash = createHash('sha256').update(authorization.device_code).digest('hex');
      const updated = await database.query(`UPDATE token.device_code SET expires_at = now() - interval '1 second' WHERE device_code_hash = $1`, [hash]);
      expect(updated.rowCount).toBe(1);
    } finally {
      await database.end();
    }
    expectDeviceError(await poll(authorization.device_code), 'expired_token');
    const pages = new HttpBrowser(env.platform.url);
    const entry = await pages.get(authorization.verification_uri_complete);
    const page = await pages.post(formOf(entry.text).action, { ...formOf(entry.text).fields, user_code: authorization.user_code });
    expect(page.text).toContain(CODE_NOT_VALID);
  });
});

describe('the verification page', () => {
  it('sends the page security headers and refuses a POST without its CSRF token', async () => {
    const entry = await http(`${issuer}/device?user_code=WDJB-MJHT`);
    expect(entry.status).toBe(200);
    expect(entry.headers.get('content-security-policy')).toMatch(/form-action 'self'; frame-ancestors 'none'/);
    expect(entry.headers.get('x-frame-options')).toBe('DENY');
    expect(entry.headers.get('cache-control')).toBe('no-store');
    expect(entry.text).toContain('value="WDJB-MJHT"');
    const forged = await postForm(`${issuer}/device`, { user_code: 'WDJB-MJHT' });
    expect(forged.status).toBe(403);
    const crossSite = await new HttpBrowser(env.platform.url).post(`${issuer}/device`, { user_code: 'WDJB-MJHT', csrf_token: formOf(entry.text).fields.csrf_token! }, { origin: 'https://attacker.example' });
    expect(crossSite.status).toBe(403);
  });

  it('locks an IP out after many wrong codes: even the right code is refused, with the same message', async () => {
    const guessIssuer = env.platform.issuer('guess');
    const authorization = await deviceAuthorization(guessIssuer);
    const pages = new HttpBrowser(env.platform.url);
    const entry = await pages.get(`${guessIssuer}/device`);
    const form = formOf(entry.text);
    // The right code works at first (it leads to sign-in).
    expect(headingOf((await pages.post(form.action, { ...form.fields, user_code: authorization.user_code })).text)).toBe('Sign in');
    for (let attempt = 0; attempt < 12; attempt++) {
      const wrong = await pages.post(form.action, { ...form.fields, user_code: `BBBB-${'CDFGHJKLMNPQ'[attempt]}BBB` });
      expect(wrong.status).toBe(200);
      expect(wrong.text).toContain(CODE_NOT_VALID);
    }
    const refused = await pages.post(form.action, { ...form.fields, user_code: authorization.user_code });
    expect(headingOf(refused.text)).toBe('Connect a device');
    expect(refused.text).toContain(CODE_NOT_VALID);
    // Other tenants are not affected by this tenant's lockout.
    const other = await deviceAuthorization();
    const otherBrowser = new HttpBrowser(env.platform.url);
    const otherEntry = await otherBrowser.get(other.verification_uri_complete);
    expect(headingOf((await otherBrowser.post(formOf(otherEntry.text).action, { ...formOf(otherEntry.text).fields, user_code: other.user_code })).text)).toBe('Sign in');
  });
});
