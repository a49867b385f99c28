// Helpers of the device-flow and account e2e tests: a tenants file derived from the development one,
// and the RFC 8628 §3.3 pages driven with the scripted HTTP browser.
import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { formOf, type HttpBrowser } from './http-browser.js';
import type { HttpResult } from './platform.js';

interface TenantsYaml {
  tenants: Array<Record<string, unknown> & { id: string; clients: Array<Record<string, unknown>>; users: Array<Record<string, unknown>> }>;
}

/** The development tenants file (`config/tenants.dev.yaml`) as data, to derive test tenants from. */
export function devTenants(): TenantsYaml {
  return parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'config', 'tenants.dev.yaml'), 'utf8')) as TenantsYaml;
}

export function tenantsYaml(tenants: TenantsYaml): string {
  return stringify(tenants);
}

/** The `<h1>` of a page. */
export function headingOf(page: string): string | undefined {
  return /<h1>([^<]*)<\/h1>/.exec(page)?.[1];
}

/** Where a 303 goes, as an absolute URL. */
export function locationOf(result: HttpResult, origin: string): string {
  expect(result.status).toBe(303);
  const location = result.headers.get('location');
  expect(location).toEqual(expect.stringMatching(/^\//));
  return `${origin}${location}`;
}

/**
 * Types a user code on `/t/{tenant}/device` (opened as `verification_uri_complete`), signs in when the
 * page asks, and answers Allow or Deny. Returns the final page.
 */
export async function decideDevice(browser: HttpBrowser, origin: string, verificationUriComplete: string, answer: 'allow' | 'deny', user = { username: 'adam', password: 'adam-password' }): Promise<HttpResult> {
  const entry = await browser.get(verificationUriComplete);
  expect(headingOf(entry.text)).toBe('Connect a device');
  const userCode = new URL(verificationUriComplete).searchParams.get('user_code')!;
  const entryForm = formOf(entry.text);
  let page = await browser.post(entryForm.action, { ...entryForm.fields, user_code: userCode });
  if (headingOf(page.text) === 'Sign in') {
    const login = formOf(page.text);
    const signedIn = await browser.post(login.action, { ...login.fields, username: user.username, password: user.password });
    page = await browser.get(locationOf(signedIn, origin));
  }
  expect(headingOf(page.text)).toBe('Connect this device?');
  const confirm = formOf(page.text);
  return browser.post(confirm.action, { ...confirm.fields, decision: answer });
}
