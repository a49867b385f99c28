// RFC 9700 (OAuth 2.0 Security BCP) cases of the authorization-code flow and the pages' own defences
// (ADR 0011, ADR 0013), driven over plain HTTP with a scripted browser (cookie jar, manual redirects).
import { createHash, createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formOf, HttpBrowser } from './support/http-browser.js';
import { basicAuth, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const WEB = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const LOGIN_FAILED = 'The username or password is not correct, or sign-in is temporarily blocked. Try again later.';

let env: E2eEnvironment;
let tenants: { path: string; remove(): void };
let issuer: string;
let origin: string;

beforeAll(async () => {
  // The dev tenants plus a user of its own for the lockout test, so no other test is affected.
  const dev = readFileSync(join(process.cwd(), 'config', 'tenants.dev.yaml'), 'utf8');
  tenants = writeTenantsFile(dev.replace('    users:\n', '    users:\n      - username: locked-out\n        password: locked-out-password\n'));
  env = await startE2eEnvironment({ tenantsFile: tenants.path });
  issuer = env.platform.issuer('demo');
  origin = new URL(issuer).origin;
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenants?.remove();
});

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

function authorizeUrl(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return `${issuer}/oauth2/authorize?${new URLSearchParams(defined)}`;
}

function webRequest(overrides: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const url = authorizeUrl({ response_type: 'code', client_id: WEB.id, redirect_uri: WEB.redirectUri, scope: 'openid profile', state, code_challenge: challenge, code_challenge_method: 'S256', ...overrides });
  return { url, verifier, state };
}

/** Signs in on the login page the browser is showing; returns the response of the POST. */
async function submitLogin(browser: HttpBrowser, page: string, username: string, password: string) {
  const form = formOf(page);
  return browser.post(form.action, { ...form.fields, username, password });
}

/** The whole browser part: authorize → (login) → (consent: allow) → the client's callback URL. */
async function authorize(browser: HttpBrowser, url: string, user = { username: 'adam', password: 'adam-password' }): Promise<URL> {
  return continueToCallback(browser, await browser.get(url), user);
}

/** From any step of the flow on: follows redirects, signs in, allows, until the client's callback URL. */
async function continueToCallback(browser: HttpBrowser, first: HttpResult, user: { username: string; password: string }): Promise<URL> {
  let response = first;
  for (let step = 0; step < 5; step++) {
    const location = response.headers.get('location');
    if (location?.startsWith(WEB.redirectUri)) return new URL(location);
    if (location) {
      response = await browser.get(new URL(location, origin).href);
      continue;
    }
    expect(response.status).toBe(200);
    if (response.text.includes('name="password"')) response = await submitLogin(browser, response.text, user.username, user.password);
    else if (response.text.includes('value="allow"')) response = await browser.post(formOf(response.text).action, { ...formOf(response.text).fields, decision: 'allow' });
    else throw new Error(`unexpected page: ${response.text.slice(0, 300)}`);
  }
  throw new Error('no callback after 5 steps');
}

const redeem = (code: string, verifier: string | undefined, redirectUri = WEB.redirectUri) =>
  postForm(`${issuer}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...(verifier ? { code_verifier: verifier } : {}) }, basicAuth(WEB.id, WEB.secret));

const introspect = (token: string) => postForm(`${issuer}/oauth2/introspect`, { token }, basicAuth(WEB.id, WEB.secret));

describe('authorization code (RFC 9700 §2.1.1, §4.5)', () => {
  it('case=should refuse a replayed code and revoke the access token of its first redemption', async () => {
    const browser = new HttpBrowser(origin);
    const request = webRequest();
    const callback = await authorize(browser, request.url);
    const code = callback.searchParams.get('code')!;
    const first = await redeem(code, request.verifier);
    expect(first.status).toBe(200);
    const accessToken = (first.json as { access_token: string }).access_token;
    expect((await introspect(accessToken)).json).toMatchObject({ active: true });
    const replay = await redeem(code, request.verifier);
    expect(replay.status).toBe(400);
    expect(replay.json).toMatchObject({ error: 'invalid_grant' });
    // Revocations travel as events: "within a second" (ARCHITECTURE), so allow a moment.
    const deadline = Date.now() + 2000;
    let introspected = (await introspect(accessToken)).json;
    while ((introspected as { active: boolean }).active && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      introspected = (await introspect(accessToken)).json;
    }
    expect(introspected).toEqual({ active: false });
  });

  it('case=should refuse a wrong code_verifier with invalid_grant', async () => {
    const browser = new HttpBrowser(origin);
    const request = webRequest();
    const callback = await authorize(browser, request.url);
    const answer = await redeem(callback.searchParams.get('code')!, pkce().verifier);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: 'invalid_grant' });
  });

  for (const [name, overrides] of [
    ['without PKCE', { code_challenge: undefined, code_challenge_method: undefined }],
    ['with PKCE plain', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }],
  ] as const) {
    it(`case=should send invalid_request back to the client ${name}`, async () => {
      const request = webRequest(overrides);
      const answer = await new HttpBrowser(origin).get(request.url);
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(WEB.redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe(request.state);
      expect(location.searchParams.get('iss')).toBe(issuer);
    });
  }

  for (const [name, redirectUri] of [
    ['a prefix', 'http://localhost:8080/call'],
    ['an extra path', 'http://localhost:8080/callback/evil'],
    ['another port', 'http://localhost:8081/callback'],
    ['a fragment', 'http://localhost:8080/callback#x'],
    ['another host', 'https://attacker.example/callback'],
  ] as const) {
    it(`case=should show an error page and never redirect for a redirect_uri with ${name}`, async () => {
      const answer = await new HttpBrowser(origin).get(webRequest({ redirect_uri: redirectUri }).url);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.text).toContain('You have not been redirected');
    });
  }

  it('case=should never redirect for an unknown client, whatever redirect_uri it names (no open redirect)', async () => {
    const answer = await new HttpBrowser(origin).get(webRequest({ client_id: 'evil-client', redirect_uri: 'https://attacker.example/cb' }).url);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.text).toContain('Unknown app');
  });

  it('case=should refuse repeated parameters with an error page', async () => {
    const answer = await new HttpBrowser(origin).get(`${webRequest().url}&state=again`);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
  });

  for (const [parameter, value, error] of [
    ['request', 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCBwcm9maWxlIn0.', 'request_not_supported'],
    ['request_uri', 'https://localhost:8080/request.jwt', 'request_uri_not_supported'],
  ] as const) {
    it(`case=should answer a ${parameter} parameter with ${error} at the client (OIDC Core §6: discovery says unsupported)`, async () => {
      const request = webRequest({ [parameter]: value });
      const answer = await new HttpBrowser(origin).get(request.url);
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(WEB.redirectUri);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ error, state: request.state, iss: issuer });
    });
  }

  it('case=should answer prompt=none without a session with login_required at the client', async () => {
    const request = webRequest({ prompt: 'none' });
    const answer = await new HttpBrowser(origin).get(request.url);
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location')!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'login_required', state: request.state, iss: issuer });
  });
});

describe('consent: remembered, then withdrawn', () => {
  it('skips consent the second time and shows it again after the user withdraws it', async () => {
    const browser = new HttpBrowser(origin);
    await authorize(browser, webRequest({ scope: 'openid offline_access' }).url, { username: 'bianca', password: 'bianca-password' });
    // Same session, consent remembered: straight back to the client.
    const second = await browser.get(webRequest({ scope: 'openid offline_access' }).url);
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toMatch(/^http:\/\/localhost:8080\/callback\?code=/);
    // prompt=consent asks even so.
    const asked = await browser.get(webRequest({ prompt: 'consent' }).url);
    expect(asked.text).toContain('value="allow"');

    // The old address of "withdraw access" changes nothing by itself: it sends the browser to the account page.
    const oldAddress = await browser.get(`${issuer}/consent/revoke?client_id=${WEB.id}`);
    expect(oldAddress.status).toBe(303);
    expect(oldAddress.headers.get('location')).toBe('/t/demo/account/consents');
    const accountPage = await browser.get(`${issuer}/account/consents`);
    expect(accountPage.status).toBe(200);
    const form = formOf(accountPage.text);
    expect(form.fields.client_id).toBe(WEB.id);
    const revoked = await browser.post(form.action, form.fields);
    expect(revoked.status).toBe(200);
    expect(revoked.text).toContain('no longer has access to your account');

    const third = await browser.get(webRequest({ scope: 'openid offline_access' }).url);
    expect(third.status).toBe(200);
    expect(third.text).toContain('value="allow"');
  });
});

describe('max_age and prompt=select_account (OIDC Core §3.1.2.1)', () => {
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('case=should issue a code for max_age=0 after sign-in and a consent that took longer than a second (no login ↔ consent loop)', async () => {
    const browser = new HttpBrowser(origin);
    // Signed in already, more than 0 s ago: max_age=0 asks again.
    await authorize(browser, webRequest().url);
    await wait(1100);
    const request = webRequest({ max_age: '0', prompt: 'consent' });
    const loginPage = await browser.get(request.url);
    expect(loginPage.status).toBe(200);
    expect(loginPage.text).toContain('name="password"');
    const login = await submitLogin(browser, loginPage.text, 'adam', 'adam-password');
    expect(login.status).toBe(303);
    const consent = await browser.get(new URL(login.headers.get('location')!, origin).href);
    expect(consent.text).toContain('value="allow"');
    // Past a second boundary, whatever the clock: before the fix, Allow showed the login page again.
    await wait(1100);
    const allowed = await browser.post(formOf(consent.text).action, { ...formOf(consent.text).fields, decision: 'allow' });
    expect(allowed.status).toBe(303);
    const callback = new URL(allowed.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(WEB.redirectUri);
    expect(callback.searchParams.get('state')).toBe(request.state);
    const tokens = await redeem(callback.searchParams.get('code')!, request.verifier);
    expect(tokens.status).toBe(200);
    const idToken = JSON.parse(Buffer.from((tokens.json as { id_token: string }).id_token.split('.')[1]!, 'base64url').toString()) as { auth_time: number; iat: number };
    expect(idToken.iat - idToken.auth_time).toBeGreaterThanOrEqual(1);
  });

  it('case=should show the sign-in form for prompt=select_account even with a session, and issue the code to the account chosen', async () => {
    const browser = new HttpBrowser(origin);
    await authorize(browser, webRequest().url, { username: 'adam', password: 'adam-password' });
    const request = webRequest({ prompt: 'select_account' });
    const loginPage = await browser.get(request.url);
    expect(loginPage.status).toBe(200);
    expect(loginPage.text).toContain('name="password"');
    // Another account than the session's.
    const bianca = { username: 'bianca', password: 'bianca-password' };
    const callback = await continueToCallback(browser, await submitLogin(browser, loginPage.text, bianca.username, bianca.password), bianca);
    const tokens = await redeem(callback.searchParams.get('code')!, request.verifier);
    const info = await http(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${(tokens.json as { access_token: string }).access_token}` } });
    expect(info.json).toMatchObject({ preferred_username: 'bianca' });
  });
});

describe('login (ADR 0009 through the pages)', () => {
  it('case=should answer every failure with one generic message, and lock the account after the threshold', async () => {
    // The account exists and its password works (a success also resets its counter).
    const control = new HttpBrowser(origin);
    const signedIn = await submitLogin(control, (await control.get(webRequest().url)).text, 'locked-out', 'locked-out-password');
    expect(signedIn.status).toBe(303);

    const browser = new HttpBrowser(origin);
    const start = await browser.get(webRequest().url);
    let page = start.text;
    for (let attempt = 0; attempt < 5; attempt++) {
      const failed = await submitLogin(browser, page, 'locked-out', `wrong-${attempt}`);
      expect(failed.status).toBe(200);
      expect(failed.text).toContain(LOGIN_FAILED);
      page = failed.text;
    }
    const unknown = await submitLogin(browser, page, 'nobody-here', 'whatever-password');
    expect(unknown.text).toContain(LOGIN_FAILED);
    // The right password is refused now, with the very same message.
    const locked = await submitLogin(browser, unknown.text, 'locked-out', 'locked-out-password');
    expect(locked.status).toBe(200);
    expect(locked.text).toContain(LOGIN_FAILED);
    expect(locked.headers.get('set-cookie') ?? '').not.toMatch(/latchkey-session-demo=[^;]/);
  });
});

describe('userinfo refuses forged tokens (RFC 6750 §3, RFC 8725 §2.1)', () => {
  let accessToken: string;

  beforeAll(async () => {
    const browser = new HttpBrowser(origin);
    const request = webRequest();
    const callback = await authorize(browser, request.url);
    accessToken = ((await redeem(callback.searchParams.get('code')!, request.verifier)).json as { access_token: string }).access_token;
  });

  const userinfo = (token: string) => http(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });

  it('accepts the genuine token', async () => {
    const answer = await userinfo(accessToken);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ sub: expect.any(String), preferred_username: 'adam' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('case=should refuse alg none and HS256 signed with the public key', async () => {
    const [, payload] = accessToken.split('.') as [string, string];
    const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${segment({ alg: 'none', typ: 'at+jwt' })}.${payload}.`;
    const { keys } = (await http(`${issuer}/jwks`)).json as { keys: (Record<string, string> & { kid: string })[] };
    const kid = JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString()).kid as string;
    const pem = createPublicKey({ key: keys.find((key) => key.kid === kid)!, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const input = `${segment({ alg: 'HS256', typ: 'at+jwt', kid })}.${payload}`;
    const hs256 = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    for (const forged of [none, hs256]) {
      const answer = await userinfo(forged);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    }
  });

  it('case=should answer 401 without an error code when no token is sent, 403 insufficient_scope without openid', async () => {
    const none = await http(`${issuer}/oauth2/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="${issuer}"`);
    const service = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials' }, basicAuth('demo-service', 'demo-service-secret'));
    const answer = await userinfo((service.json as { access_token: string }).access_token);
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  it('accepts the token as a form parameter on POST (RFC 6750 §2.2)', async () => {
    const answer = await postForm(`${issuer}/oauth2/userinfo`, { access_token: accessToken });
    expect(answer.status).toBe(200);
  });
});

describe('page security (ADR 0011)', () => {
  it('sends the CSP with the client in form-action, no-store, DENY framing, and a CSRF token in the form', async () => {
    const browser = new HttpBrowser(origin);
    const page = await browser.get(webRequest().url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; base-uri 'none'; form-action 'self' http:\/\/localhost:\*; frame-ancestors 'none'$/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(formOf(page.text).fields).toMatchObject({ csrf_token: expect.stringMatching(/^\d+\.[A-Za-z0-9_-]{43}$/), interaction_id: expect.any(String) });
    expect(page.headers.getSetCookie().join('\n')).toMatch(/latchkey-csrf-demo=[^;]+; Path=\/t\/demo\/; HttpOnly; SameSite=Lax/);
  });

  it('case=should refuse a POST with a missing or forged CSRF token, or from another site, and change nothing', async () => {
    const browser = new HttpBrowser(origin);
    const page = await browser.get(webRequest().url);
    const { action, fields } = formOf(page.text);
    const attempts = [
      browser.post(action, { ...fields, csrf_token: '', username: 'adam', password: 'adam-password' }),
      browser.post(action, { ...fields, csrf_token: `${fields.csrf_token!.split('.')[0]}.${'A'.repeat(43)}`, username: 'adam', password: 'adam-password' }),
      browser.post(action, { ...fields, username: 'adam', password: 'adam-password' }, { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' }),
      new HttpBrowser(origin).post(action, { ...fields, username: 'adam', password: 'adam-password' }),
    ];
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status).toBe(403);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.getSetCookie().join('\n')).not.toMatch(/latchkey-session-demo/);
    }
    // The interaction is still usable with the genuine token.
    const genuine = await browser.post(action, { ...fields, username: 'adam', password: 'adam-password' });
    expect(genuine.status).toBe(303);
    expect(genuine.headers.getSetCookie().join('\n')).toMatch(/latchkey-session-demo=/);
  });

  it('case=should refuse a consent POST with a bad CSRF token and not complete the interaction', async () => {
    const browser = new HttpBrowser(origin);
    const page = await browser.get(webRequest({ prompt: 'consent' }).url);
    const login = await submitLogin(browser, page.text, 'bianca', 'bianca-password');
    const consent = await browser.get(new URL(login.headers.get('location')!, origin).href);
    const { action, fields } = formOf(consent.text);
    const forged = await browser.post(action, { ...fields, csrf_token: 'garbage', decision: 'allow' });
    expect(forged.status).toBe(403);
    const allowed = await browser.post(action, { ...fields, decision: 'allow' });
    expect(allowed.status).toBe(303);
    expect(allowed.headers.get('location')).toMatch(/^http:\/\/localhost:8080\/callback\?code=/);
  });
});

describe('discovery lists exactly the browser flows that exist', () => {
  it('advertises the endpoints, code + S256 only, and the iss response parameter', async () => {
    const metadata = (await http(`${issuer}/.well-known/openid-configuration`)).json as Record<string, unknown>;
    expect(metadata).toMatchObject({
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      userinfo_endpoint: `${issuer}/oauth2/userinfo`,
      end_session_endpoint: `${issuer}/oauth2/logout`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      acr_values_supported: ['urn:latchkey:loa:1', 'urn:latchkey:loa:2'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']));
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    for (const endpoint of ['userinfo_endpoint', 'end_session_endpoint']) expect((await http(metadata[endpoint] as string, { redirect: 'manual' })).status).not.toBe(404);
  });
});

describe('RP-initiated logout', () => {
  it('case=should refuse a post_logout_redirect_uri that is not registered for the client, without redirecting', async () => {
    const answer = await http(`${issuer}/oauth2/logout?${new URLSearchParams({ client_id: WEB.id, post_logout_redirect_uri: 'https://attacker.example/' })}`, { redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
  });

  it('case=should refuse an id_token_hint with alg none or HS256 signed with the public key, and keep the session', async () => {
    const browser = new HttpBrowser(origin);
    const request = webRequest();
    const callback = await authorize(browser, request.url);
    const idToken = ((await redeem(callback.searchParams.get('code')!, request.verifier)).json as { id_token: string }).id_token;
    const [header, payload] = idToken.split('.') as [string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const { keys } = (await http(`${issuer}/jwks`)).json as { keys: (Record<string, string> & { kid: string })[] };
    const jwk = keys.find((key) => key.kid === kid)!;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hs256 = (secret: string | Buffer) => {
      const input = `${segment({ alg: 'HS256', typ: 'JWT', kid })}.${payload}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const forged = [`${segment({ alg: 'none', typ: 'JWT' })}.${payload}.`, `${segment({ alg: 'none', typ: 'JWT', kid })}.${payload}.${idToken.split('.')[2]}`, hs256(pem), hs256(JSON.stringify(jwk))];
    for (const hint of forged) {
      const answer = await browser.get(`${issuer}/oauth2/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: WEB.redirectUri, state: 'logout-state' })}`);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.text).toContain('The ID token hint is not valid.');
      expect(answer.headers.getSetCookie().join('\n')).not.toMatch(/latchkey-session-demo/);
    }
    // Still signed in: prompt=none gets a code, not login_required.
    const silent = await browser.get(webRequest({ prompt: 'none' }).url);
    expect(new URL(silent.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    // The genuine hint names this session: signed out at once, back to the client with the state.
    const genuine = await browser.get(`${issuer}/oauth2/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: WEB.redirectUri, state: 'logout-state' })}`);
    expect(genuine.status).toBe(303);
    expect(genuine.headers.get('location')).toBe(`${WEB.redirectUri}?state=logout-state`);
  });

  it('case=should ask for confirmation without an id_token_hint, then sign out', async () => {
    const browser = new HttpBrowser(origin);
    await authorize(browser, webRequest().url);
    const confirm = await browser.get(`${issuer}/oauth2/logout`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Sign out?');
    const { action, fields } = formOf(confirm.text);
    const done = await browser.post(action, fields);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Signed out');
    expect([...browser.cookies.keys()]).not.toContain('latchkey-session-demo');
    const again = await browser.get(webRequest({ prompt: 'none' }).url);
    expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });
});
