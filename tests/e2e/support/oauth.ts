// Getting access tokens the way real clients do, for the e2e tests of bearer-protected APIs: client
// credentials for a service, and the authorization-code flow with PKCE (the scripted browser signs
// in and consents) for a person.
import { expect } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { formOf, HttpBrowser } from './http-browser.js';
import { basicAuth, postForm } from './platform.js';

export interface ConfidentialClient {
  id: string;
  secret: string;
}

/** A client of the authorization-code flow: confidential with a secret, public (PKCE only) without. */
export interface WebClient {
  id: string;
  secret?: string;
  redirectUri: string;
}

/** The demo web app of `config/tenants.dev.yaml`. */
export const DEMO_WEB: WebClient = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

/** The demo mobile app of `config/tenants.dev.yaml`: a public client (no secret), allowed token exchange. */
export const DEMO_APP: WebClient = { id: 'demo-app', redirectUri: 'http://127.0.0.1:8765/callback' };

/** A public client names itself with `client_id` in the form; a confidential one authenticates with Basic. */
export function clientFields(client: Pick<WebClient, 'id' | 'secret'>): { params: Record<string, string>; authorization?: string } {
  return client.secret === undefined ? { params: { client_id: client.id } } : { params: {}, authorization: basicAuth(client.id, client.secret) };
}

/** `client_credentials` at the tenant's token endpoint; the access token. */
export async function clientCredentialsToken(issuer: string, client: ConfidentialClient, scope?: string): Promise<string> {
  const response = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, basicAuth(client.id, client.secret));
  expect(response.status).toBe(200);
  return (response.json as { access_token: string }).access_token;
}

/**
 * The browser part of the authorization-code flow: authorize → login → consent (allow) → the client's
 * callback URL. `browser` keeps its cookies, so a second call reuses the session.
 */
export async function authorizeInBrowser(browser: HttpBrowser, origin: string, url: string, redirectUri: string, user: { username: string; password: string }): Promise<URL> {
  let response = await browser.get(url);
  for (let step = 0; step < 6; step++) {
    const location = response.headers.get('location');
    if (location?.startsWith(redirectUri)) return new URL(location);
    if (location) {
      response = await browser.get(new URL(location, origin).href);
      continue;
    }
    expect(response.status).toBe(200);
    const form = formOf(response.text);
    if (response.text.includes('name="password"')) response = await browser.post(form.action, { ...form.fields, username: user.username, password: user.password });
    else if (response.text.includes('value="allow"')) response = await browser.post(form.action, { ...form.fields, decision: 'allow' });
    else throw new Error(`unexpected page: ${response.text.slice(0, 300)}`);
  }
  throw new Error('no callback after 6 steps');
}

/** A person's access token for `client` with `scope`, through the authorization-code flow with PKCE. */
export async function userAccessToken(issuer: string, user: { username: string; password: string }, scope: string, client: WebClient = DEMO_WEB): Promise<string> {
  return (await userTokens(issuer, user, scope, client)).access_token;
}

/** The token response of the authorization-code flow with PKCE for `user` at `client`. */
export async function userTokens(issuer: string, user: { username: string; password: string }, scope: string, client: WebClient = DEMO_WEB): Promise<{ access_token: string; scope: string; refresh_token?: string }> {
  const origin = new URL(issuer).origin;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirectUri,
    scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const callback = await authorizeInBrowser(new HttpBrowser(origin), origin, `${issuer}/oauth2/authorize?${query}`, client.redirectUri, user);
  expect(callback.searchParams.get('state')).toBe(state);
  const code = callback.searchParams.get('code');
  expect(code).toBeTruthy();
  const { params, authorization } = clientFields(client);
  const response = await postForm(`${issuer}/oauth2/token`, { grant_type: 'authorization_code', code: code as string, redirect_uri: client.redirectUri, code_verifier: verifier, ...params }, authorization);
  expect(response.status).toBe(200);
  return response.json as { access_token: string; scope: string; refresh_token?: string };
}
