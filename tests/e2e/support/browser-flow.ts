// The authorization-code flow in headless Chromium, as the browser e2e tests drive it: openid-client
// builds the request, the browser signs in and consents on the gateway's pages, and the client's
// redirect URI is answered inside the browser (page.route), so nothing listens on the registered ports.
import { expect } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** openid-client against the plain-http test platform. */
export const INSECURE = { execute: [client.allowInsecureRequests] };

export interface Authorization {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization request with PKCE (S256), state and nonce; `extra` adds or overrides parameters. */
export async function authorizationRequest(config: client.Configuration, redirectUri: string, scope: string, extra: Record<string, string> = {}): Promise<Authorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** A browser context that answers every request to the given redirect URIs itself. */
export async function contextAnswering(browser: Browser, redirectUris: readonly string[]): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(
    (url) => redirectUris.some((uri) => url.href.startsWith(uri)),
    (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback reached' }),
  );
  return context;
}

/** Opens the URL and runs `drive`; resolves with the URL the browser was sent back to at the client. */
export async function callbackOf(page: Page, redirectUri: string, drive: (page: Page) => Promise<void>, url: URL): Promise<URL> {
  const callback = page.waitForRequest((request) => request.url().startsWith(redirectUri), { timeout: 10_000 });
  const seen = callback.then(
    () => true,
    () => false,
  );
  try {
    await page.goto(url.href);
  } catch (error) {
    // A GET answered by a redirect straight to the client: Chromium does not hand that hop of a
    // navigation to the route, so it fails to connect; the request itself is what we want.
    if (!(await seen)) throw error;
    await page.waitForLoadState().catch(() => undefined);
  }
  await drive(page);
  return new URL((await callback).url());
}

/** Fills and submits the sign-in form the page shows. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
}

/** Clicks Allow on the consent page. */
export async function allow(page: Page): Promise<void> {
  await page.waitForSelector('button[value=allow]');
  expect(await page.locator('h1').textContent()).toBe('Allow access?');
  await page.click('button[value=allow]');
}
