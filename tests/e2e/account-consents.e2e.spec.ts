// Withdrawing consent, end to end in headless Chromium: a person allows an app (openid-client as the
// relying party), finds it on the account page the consent page links to, withdraws it there, and the
// app's refresh token is refused while the next authorization asks for consent again. Another person's
// and another tenant's consents are neither shown nor touched. A TV paired with a code (RFC 8628, no
// remembered consent) is listed too, and withdrawing it ends its refresh token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { allow, authorizationRequest, callbackOf, contextAnswering, INSECURE, signIn } from './support/browser-flow.js';
import { decideDevice, headingOf } from './support/device.js';
import { HttpBrowser } from './support/http-browser.js';
import { type E2eEnvironment, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const WEB = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
/** The dev tenants' TV: a public client of the device grant, with refresh tokens for offline_access. */
const TV = 'demo-tv';
const ADAM = { username: 'adam', password: 'adam-password' };
const BIANCA = { username: 'bianca', password: 'bianca-password' };
const ACME_ADAM = { username: 'adam', password: 'adam-at-acme-password' };

// The dev tenants, plus tenant `acme` with a client and a user of the same names as demo's.
const ACME = `  - id: acme
    displayName: Acme
    clients:
      - clientId: ${WEB.id}
        displayName: Acme web app
        secret: ${WEB.secret}
        tokenEndpointAuthMethods: [client_secret_basic]
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${WEB.redirectUri}]
        scopes: [openid, profile, offline_access]
    users:
      - username: ${ACME_ADAM.username}
        password: ${ACME_ADAM.password}
`;

let env: E2eEnvironment;
let tenants: { path: string; remove(): void };
let browser: Browser;
let demo: string;
let acme: string;

beforeAll(async () => {
  const dev = readFileSync(join(process.cwd(), 'config', 'tenants.dev.yaml'), 'utf8');
  tenants = writeTenantsFile(`${dev.trimEnd()}\n${ACME}`);
  [env, browser] = await Promise.all([startE2eEnvironment({ tenantsFile: tenants.path }), launchChromium()]);
  demo = env.platform.issuer('demo');
  acme = env.platform.issuer('acme');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await env?.close();
  tenants?.remove();
});

const webClient = (issuer: string) => client.discovery(new URL(issuer), WEB.id, WEB.secret, client.ClientSecretBasic(WEB.secret), INSECURE);
const newContext = (): Promise<BrowserContext> => contextAnswering(browser, [WEB.redirectUri]);

/** Signs in (when asked) and allows; the token response of the code. */
async function allowApp(context: BrowserContext, issuer: string, user: { username: string; password: string }, scope: string) {
  const config = await webClient(issuer);
  const request = await authorizationRequest(config, WEB.redirectUri, scope, { prompt: 'consent' });
  const page = await context.newPage();
  try {
    const callback = await callbackOf(
      page,
      WEB.redirectUri,
      async (p) => {
        if ((await p.locator('h1').textContent()) === 'Sign in') await signIn(p, user.username, user.password);
        await allow(p);
      },
      request.url,
    );
    return await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
  } finally {
    await page.close();
  }
}

/** The account page of apps with access, as the signed-in browser sees it. */
async function accountPage(context: BrowserContext, issuer: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${issuer}/account/consents`);
  expect(await page.locator('h1').textContent()).toBe('Apps with access');
  return page;
}

const appsListed = (page: Page) => page.locator('h2').allTextContents();

/** Revocation reaches introspection "within a second" (ARCHITECTURE); allow a moment. */
async function eventuallyInactive(config: client.Configuration, token: string): Promise<boolean> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const { active } = await client.tokenIntrospection(config, token);
    if (!active || Date.now() > deadline) return !active;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('consent given → listed on the account page → withdrawn', () => {
  let context: BrowserContext;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    context = await newContext();
  });

  afterAll(async () => {
    await context?.close();
  });

  it('links the account page from the consent page ("you can withdraw access at any time")', async () => {
    const config = await webClient(demo);
    const request = await authorizationRequest(config, WEB.redirectUri, 'openid profile offline_access');
    const page = await context.newPage();
    let link: string | null = null;
    const callback = await callbackOf(
      page,
      WEB.redirectUri,
      async (p) => {
        await signIn(p, ADAM.username, ADAM.password);
        await p.waitForSelector('button[value=allow]');
        const withdraw = p.getByRole('link', { name: 'withdraw access at any time' });
        link = await withdraw.getAttribute('href');
        await allow(p);
      },
      request.url,
    );
    expect(link).toBe('/t/demo/account/consents');
    tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    await page.close();
  });

  it('lists the app with its scopes in plain words and the day it was allowed, under a strict CSP', async () => {
    const page = await context.newPage();
    const response = await page.goto(`${demo}/account/consents`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'$/);
    expect(await appsListed(page)).toEqual(['Demo web app']);
    expect(await page.locator('ul.scopes li').allTextContents()).toEqual([
      'Know who you are when you sign inopenid',
      'See your name and basic profileprofile',
      'Keep access while you are not using the appoffline_access',
    ]);
    const allowedAt = Date.parse((await page.locator('time').getAttribute('datetime'))!);
    expect(Date.now() - allowedAt).toBeLessThan(60_000);
    expect(await page.locator('time').textContent()).toBe(new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(allowedAt));
    // The other account page links here, and this one there.
    expect(await page.getByRole('link', { name: 'Two-step verification' }).getAttribute('href')).toBe('/t/demo/account/otp');
    await page.goto(`${demo}/account/otp`);
    expect(await page.getByRole('link', { name: 'Apps with access to your account' }).getAttribute('href')).toBe('/t/demo/account/consents');
    // Readable on a phone: nothing wider than the viewport.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${demo}/account/consents`);
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(360);
    await page.close();
  });

  it('withdraws it: the refresh token is refused with invalid_grant and the next authorization asks for consent again', async () => {
    const page = await accountPage(context, demo);
    await Promise.all([page.waitForURL(`${demo}/account/consents`), page.getByRole('button', { name: 'Withdraw access from Demo web app' }).click()]);
    await page.waitForSelector('[role=status]');
    expect(await page.locator('[role=status]').textContent()).toContain('Demo web app no longer has access to your account.');
    expect(await appsListed(page)).toEqual([]);
    await page.reload();
    expect(await page.locator('main').textContent()).toContain('No app has access to your account.');

    const config = await webClient(demo);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await eventuallyInactive(config, tokens.access_token)).toBe(true);

    // Still signed in, but consent is gone: the consent page, not a code.
    const next = await context.newPage();
    await next.goto((await authorizationRequest(config, WEB.redirectUri, 'openid')).url.href);
    expect(await next.locator('h1').textContent()).toBe('Allow access?');
    await page.close();
    await next.close();
  });
});

describe('the account page without a session', () => {
  it('asks to sign in, then comes back to the list', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${demo}/account/consents`);
      await signIn(page, BIANCA.username, BIANCA.password);
      await page.waitForURL(`${demo}/account/consents`);
      expect(await page.locator('h1').textContent()).toBe('Apps with access');
      expect(await page.locator('main').textContent()).toContain('Signed in as bianca.');
    } finally {
      await context.close();
    }
  });
});

describe('another person\'s and another tenant\'s consents', () => {
  it('case=should neither show nor withdraw consents that are not the signed-in person\'s at this tenant', async () => {
    const adamContext = await newContext();
    const biancaContext = await newContext();
    try {
      // Adam allows demo-web at tenant demo and, in the same browser, acme's demo-web as acme's adam.
      const adamDemo = await allowApp(adamContext, demo, ADAM, 'openid offline_access');
      const adamAcme = await allowApp(adamContext, acme, ACME_ADAM, 'openid offline_access');
      // Bianca allows demo-web at tenant demo, in her own browser.
      const biancaDemo = await allowApp(biancaContext, demo, BIANCA, 'openid offline_access');

      const adamsPage = await accountPage(adamContext, demo);
      expect(await appsListed(adamsPage)).toEqual(['Demo web app']);
      const acmePage = await accountPage(adamContext, acme);
      expect(await appsListed(acmePage)).toEqual(['Acme web app']);

      // A withdraw form of tenant demo posted to tenant acme: refused, nothing withdrawn.
      const hidden = (name: string) => adamsPage.locator(`form input[name=${name}]`).getAttribute('value');
      const fields = { csrf_token: (await hidden('csrf_token'))!, client_id: (await hidden('client_id'))! };
      expect(fields.client_id).toBe(WEB.id);
      const crossTenant = await adamContext.request.post(`${acme}/account/consents`, { form: fields, headers: { origin: new URL(demo).origin }, maxRedirects: 0 });
      expect(crossTenant.status()).toBe(403);
      await acmePage.reload();
      expect(await appsListed(acmePage)).toEqual(['Acme web app']);

      // Adam withdraws at tenant demo: his demo token dies; bianca's and acme's live on.
      await Promise.all([adamsPage.waitForURL(`${demo}/account/consents`), adamsPage.getByRole('button', { name: 'Withdraw access from Demo web app' }).click()]);
      await adamsPage.waitForSelector('[role=status]');
      await expect(client.refreshTokenGrant(await webClient(demo), adamDemo.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(client.refreshTokenGrant(await webClient(demo), biancaDemo.refresh_token!)).resolves.toMatchObject({ token_type: expect.stringMatching(/^bearer$/i) });
      await expect(client.refreshTokenGrant(await webClient(acme), adamAcme.refresh_token!)).resolves.toMatchObject({ token_type: expect.stringMatching(/^bearer$/i) });

      const biancasPage = await accountPage(biancaContext, demo);
      expect(await appsListed(biancasPage)).toEqual(['Demo web app']);
      await acmePage.reload();
      expect(await appsListed(acmePage)).toEqual(['Acme web app']);
    } finally {
      await adamContext.close();
      await biancaContext.close();
    }
  });
});

describe('a TV paired with a code (RFC 8628 device grant, which remembers no consent)', () => {
  const tvClient = () => client.discovery(new URL(demo), TV, undefined, client.None(), INSECURE);

  it('is listed as paired with a code; withdrawing it ends its refresh token (invalid_grant), and not another person\'s', async () => {
    const tv = await tvClient();
    // Adam pairs a TV in Chromium; bianca pairs another TV of the same app.
    const adamsTv = await client.initiateDeviceAuthorization(tv, { scope: 'openid devices:read offline_access' });
    const biancasTv = await client.initiateDeviceAuthorization(tv, { scope: 'openid offline_access' });
    const adamsTokens = client.pollDeviceAuthorizationGrant(tv, adamsTv);
    const biancasTokens = client.pollDeviceAuthorizationGrant(tv, biancasTv);

    const context = await newContext();
    try {
      const page = await context.newPage();
      await page.goto(adamsTv.verification_uri_complete!);
      expect(await page.locator('h1').textContent()).toBe('Connect a device');
      await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      await page.fill('#username', ADAM.username);
      await page.fill('#password', ADAM.password);
      await Promise.all([page.waitForURL(/\/device\/confirm/), page.click('button[type=submit]')]);
      expect(await page.locator('h1').textContent()).toBe('Connect this device?');
      await Promise.all([page.waitForLoadState(), page.click('button[value=allow]')]);
      expect(await page.locator('h1').textContent()).toBe('Device connected');
      const biancasDone = await decideDevice(new HttpBrowser(env.platform.url), env.platform.url, biancasTv.verification_uri_complete!, 'allow', BIANCA);
      expect(headingOf(biancasDone.text)).toBe('Device connected');
      const [adams, biancas] = await Promise.all([adamsTokens, biancasTokens]);
      expect(adams.refresh_token).toEqual(expect.any(String));
      expect(biancas.refresh_token).toEqual(expect.any(String));

      // On adam's account page: the TV, how and since when it was allowed, what it may do.
      const account = await accountPage(context, demo);
      expect(await appsListed(account)).toEqual(['Demo TV']);
      expect(await account.locator('main').textContent()).toContain('Paired with a code since');
      expect(await account.locator('ul.scopes li').allTextContents()).toEqual([
        'Know who you are when you sign inopenid',
        'See your devices and their statusdevices:read',
        'Keep access while you are not using the appoffline_access',
      ]);
      const pairedAt = Date.parse((await account.locator('time').getAttribute('datetime'))!);
      expect(Date.now() - pairedAt).toBeLessThan(120_000);

      await Promise.all([account.waitForURL(`${demo}/account/consents`), account.getByRole('button', { name: 'Withdraw access from Demo TV' }).click()]);
      await account.waitForSelector('[role=status]');
      expect(await account.locator('[role=status]').textContent()).toContain('Demo TV no longer has access to your account.');
      expect(await appsListed(account)).toEqual([]);

      // The TV's refresh token is refused and its access token revoked; bianca's TV keeps its access.
      await expect(client.refreshTokenGrant(tv, adams.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await eventuallyInactive(await webClient(demo), adams.access_token)).toBe(true);
      await expect(client.refreshTokenGrant(tv, biancas.refresh_token!)).resolves.toMatchObject({ token_type: expect.stringMatching(/^bearer$/i) });
      const biancasContext = await newContext();
      try {
        const biancasPage = await biancasContext.newPage();
        await biancasPage.goto(`${demo}/account/consents`);
        await signIn(biancasPage, BIANCA.username, BIANCA.password);
        await biancasPage.waitForURL(`${demo}/account/consents`);
        expect(await appsListed(biancasPage)).toContain('Demo TV');
      } finally {
        await biancasContext.close();
      }
    } finally {
      await context.close();
    }
  }, 60_000);
});
