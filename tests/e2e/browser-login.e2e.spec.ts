// People and apps, end to end, the way they really meet: openid-client as the relying party
// (confidential demo-web, public demo-app) and a headless Chromium that signs in and consents on the
// gateway's pages. The client's redirect URI is intercepted in the browser (page.route), so nothing
// listens on the registered ports.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { allow, authorizationRequest, callbackOf, contextAnswering, INSECURE, signIn } from './support/browser-flow.js';
import { type E2eEnvironment, http, startE2eEnvironment } from './support/platform.js';

const WEB = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const APP = { id: 'demo-app', redirectUri: 'http://127.0.0.1:8765/callback' };

let env: E2eEnvironment;
let issuer: string;
let browser: Browser;

beforeAll(async () => {
  [env, browser] = await Promise.all([
    startE2eEnvironment(),
    launchChromium(),
  ]);
  issuer = env.platform.issuer('demo');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await env?.close();
});

const webClient = () => client.discovery(new URL(issuer), WEB.id, WEB.secret, client.ClientSecretBasic(WEB.secret), INSECURE);
const appClient = () => client.discovery(new URL(issuer), APP.id, undefined, client.None(), INSECURE);

/** Answers every request to a client's redirect URI inside the browser: no server on those ports. */
const newContext = (): Promise<BrowserContext> => contextAnswering(browser, [WEB.redirectUri, APP.redirectUri]);

describe('authorization code + PKCE with a browser (confidential demo-web)', () => {
  let context: BrowserContext;
  let page: Page;
  let config: client.Configuration;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    context = await newContext();
    page = await context.newPage();
    config = await webClient();
  });

  afterAll(async () => {
    await context?.close();
  });

  it('signs in, consents, and exchanges the code for tokens with a valid ID token', async () => {
    const request = await authorizationRequest(config, WEB.redirectUri, 'openid profile email offline_access');
    const consentsSeen: string[] = [];
    const callback = await callbackOf(
      page,
      WEB.redirectUri,
      async (p) => {
        await signIn(p, 'adam', 'adam-password');
        await p.waitForSelector('ul.scopes');
        consentsSeen.push(...(await p.locator('ul.scopes li').allTextContents()));
        await allow(p);
      },
      request.url,
    );
    expect(consentsSeen).toEqual(['Know who you are when you sign inopenid', 'See your name and basic profileprofile', 'See your email addressemail', 'Keep access while you are not using the appoffline_access']);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(callback.searchParams.get('state')).toBe(request.state);

    tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: issuer, aud: WEB.id, nonce: request.nonce, amr: ['pwd'], acr: 'urn:latchkey:loa:1', sid: expect.any(String) });
    // The session cookie: HttpOnly, SameSite=Lax; its value is not the ID token's sid.
    const session = (await context.cookies()).find((cookie) => cookie.name === 'latchkey-session-demo')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/t/demo/' });
    expect(claims.sid).not.toBe(session.value);
  });

  it('answers userinfo with the claims of the granted scopes', async () => {
    const sub = tokens.claims()!.sub;
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toEqual({ sub, preferred_username: 'adam', name: 'Adam', email: 'adam@example.com', email_verified: false });
  });

  it('skips login and consent the second time (session + remembered consent)', async () => {
    const request = await authorizationRequest(config, WEB.redirectUri, 'openid profile');
    const callback = await callbackOf(page, WEB.redirectUri, async () => {}, request.url);
    const second = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(second.claims()!.sub).toBe(tokens.claims()!.sub);
    expect(second.claims()!.sid).toBe(tokens.claims()!.sid);
  });

  it('rotates the refresh token; the spent one is refused and kills the family', async () => {
    const first = tokens.refresh_token!;
    const rotated = await client.refreshTokenGrant(config, first);
    expect(rotated.refresh_token).toEqual(expect.any(String));
    expect(rotated.refresh_token).not.toBe(first);
    await expect(client.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const introspected = await client.tokenIntrospection(config, rotated.access_token);
    expect(introspected.active).toBe(false);
  });

  it('revokes an access token (RFC 7009): userinfo then refuses it', async () => {
    const request = await authorizationRequest(config, WEB.redirectUri, 'openid');
    const callback = await callbackOf(page, WEB.redirectUri, async () => {}, request.url);
    const fresh = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    await client.tokenRevocation(config, fresh.access_token);
    const answer = await http(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${fresh.access_token}` } });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    tokens = fresh;
  });

  it('logs out through end_session (RP-initiated logout) and the next request asks to sign in again', async () => {
    const state = client.randomState();
    const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: WEB.redirectUri, state });
    const back = await callbackOf(page, WEB.redirectUri, async () => {}, logout);
    expect(back.searchParams.get('state')).toBe(state);
    expect((await context.cookies()).find((cookie) => cookie.name === 'latchkey-session-demo')).toBeUndefined();
    // A fresh tab: the old one may still be settling on the unreachable callback's error page.
    const next = await context.newPage();
    await next.goto((await authorizationRequest(config, WEB.redirectUri, 'openid')).url.href);
    expect(await next.locator('h1').textContent()).toBe('Sign in');
  });
});

describe('public client demo-app (no secret, PKCE only)', () => {
  it('signs in with a loopback redirect and gets tokens; the code cannot be redeemed twice', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      const config = await appClient();
      const request = await authorizationRequest(config, APP.redirectUri, 'openid profile offline_access');
      const callback = await callbackOf(
        page,
        APP.redirectUri,
        async (p) => {
          await signIn(p, 'bianca', 'bianca-password');
          await allow(p);
        },
        request.url,
      );
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
      expect(tokens.claims()).toMatchObject({ iss: issuer, aud: APP.id });
      const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(info).toEqual({ sub: tokens.claims()!.sub, preferred_username: 'bianca', name: 'Bianca' });
      await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    } finally {
      await context.close();
    }
  });
});

describe('max_age=0 through sign-in and consent (OIDC Core §3.1.2.1)', () => {
  it('signs in again although a session exists, consents after more than a second, and gets a code with a fresh auth_time', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      const config = await webClient();
      const first = await authorizationRequest(config, WEB.redirectUri, 'openid', { prompt: 'consent' });
      await callbackOf(
        page,
        WEB.redirectUri,
        async (p) => {
          await signIn(p, 'adam', 'adam-password');
          await allow(p);
        },
        first.url,
      );
      // The session is now more than 0 seconds old.
      await page.waitForTimeout(1100);
      const askedAt = Math.floor(Date.now() / 1000);
      const request = await authorizationRequest(config, WEB.redirectUri, 'openid email', { max_age: '0', prompt: 'consent' });
      const next = await context.newPage();
      const callback = await callbackOf(
        next,
        WEB.redirectUri,
        async (p) => {
          await signIn(p, 'adam', 'adam-password');
          await p.waitForSelector('button[value=allow]');
          // Longer than a second on the consent page: before the fix, Allow showed the sign-in form again.
          await p.waitForTimeout(1100);
          await allow(p);
        },
        request.url,
      );
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce, maxAge: 0 });
      expect(tokens.claims()!.auth_time).toBeGreaterThanOrEqual(askedAt);
    } finally {
      await context.close();
    }
  });
});
