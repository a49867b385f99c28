// TOTP end to end: a dedicated user enrols an authenticator through /account/otp (scripted HTTP
// browser), the test computes codes itself (RFC 6238 with node:crypto), and a sign-in with
// acr_values=urn:latchkey:loa:2 then asks for the password and the code: the ID token says
// amr ['pwd','otp'] and acr loa:2. A wrong code fails with the generic message.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import * as client from 'openid-client';
import { devTenants, headingOf, locationOf, tenantsYaml } from './support/device.js';
import { formOf, HttpBrowser } from './support/http-browser.js';
import { type E2eEnvironment, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const WEB = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const USER = { username: 'olga', password: 'olga-password-1' };
const LOA2 = 'urn:latchkey:loa:2';
const OTP_FAILED = 'That code did not work.';

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
let origin: string;

beforeAll(async () => {
  const tenants = devTenants();
  tenants.tenants[0]!.users.push({ username: USER.username, password: USER.password, email: 'olga@example.com', displayName: 'Olga' });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  issuer = env.platform.issuer('demo');
  origin = env.platform.url;
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (RFC 4226 HOTP over 30 s steps, HMAC-SHA1, 6 digits). */
function totp(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 30_000);

async function authorizationRequest(config: client.Configuration, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: WEB.redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  return { url, verifier, state };
}

describe('TOTP enrolment and two-step sign-in', () => {
  let secret: Buffer;
  let enrolledAt: number;
  let pages: HttpBrowser;

  it('enrols through /account/otp: sign in, start, confirm with the first code', async () => {
    pages = new HttpBrowser(origin);
    const first = await pages.get(`${issuer}/account/otp`);
    expect(headingOf(first.text)).toBe('Sign in');
    const login = formOf(first.text);
    const signedIn = await pages.post(login.action, { ...login.fields, username: USER.username, password: USER.password });
    const start = await pages.get(locationOf(signedIn, origin));
    expect(headingOf(start.text)).toBe('Two-step verification');
    expect(start.headers.get('content-security-policy')).toMatch(/form-action 'self';/);

    const enrolment = await pages.post(formOf(start.text).action, formOf(start.text).fields);
    expect(headingOf(enrolment.text)).toBe('Add to your authenticator app');
    const base32 = /id="otp-secret"><strong>([A-Z2-7]+)<\/strong>/.exec(enrolment.text)?.[1];
    expect(base32).toEqual(expect.stringMatching(/^[A-Z2-7]{16,}$/));
    expect(enrolment.text).toContain(`otpauth://totp/`);
    secret = base32Decode(base32!);

    // A wrong first code does not confirm.
    const confirm = formOf(enrolment.text);
    enrolledAt = currentStep();
    const wrong = await pages.post(confirm.action, { ...confirm.fields, otp: totp(secret, enrolledAt + 5) });
    expect(wrong.text).toContain(OTP_FAILED);
    const done = await pages.post(formOf(wrong.text).action, { ...formOf(wrong.text).fields, otp: totp(secret, enrolledAt) });
    expect(headingOf(done.text)).toBe('Two-step verification is on');

    // Starting again once confirmed changes nothing.
    const again = await pages.get(`${issuer}/account/otp`);
    expect(headingOf((await pages.post(formOf(again.text).action, formOf(again.text).fields)).text)).toBe('Two-step verification is on');
  });

  it('acr_values=loa:2 makes the loa:1 session sign in again with password and code: amr [pwd, otp], acr loa:2', async () => {
    const config = await client.discovery(new URL(issuer), WEB.id, WEB.secret, client.ClientSecretBasic(WEB.secret), { execute: [client.allowInsecureRequests] });
    const request = await authorizationRequest(config, { acr_values: LOA2 });
    const loginPage = await pages.get(request.url.href);
    expect(headingOf(loginPage.text)).toBe('Sign in');
    const login = formOf(loginPage.text);
    const otpPage = await pages.post(login.action, { ...login.fields, username: USER.username, password: USER.password });
    expect(headingOf(otpPage.text)).toBe('Two-step verification');
    // The code of the next step: the confirmation used this one, and a code is accepted once.
    const afterOtp = await pages.post(formOf(otpPage.text).action, { ...formOf(otpPage.text).fields, otp: totp(secret, enrolledAt + 1) });
    const consentPage = await pages.get(locationOf(afterOtp, origin));
    expect(headingOf(consentPage.text)).toBe('Allow access?');
    const allowed = await pages.post(formOf(consentPage.text).action, { ...formOf(consentPage.text).fields, decision: 'allow' });
    expect(allowed.status).toBe(303);
    const callback = new URL(allowed.headers.get('location')!);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: WEB.id, amr: ['pwd', 'otp'], acr: LOA2 });
  });

  it('a wrong code is the generic failure, and the password step cannot be skipped', async () => {
    const config = await client.discovery(new URL(issuer), WEB.id, WEB.secret, client.ClientSecretBasic(WEB.secret), { execute: [client.allowInsecureRequests] });
    const fresh = new HttpBrowser(origin);
    const request = await authorizationRequest(config);
    const loginPage = await fresh.get(request.url.href);
    const login = formOf(loginPage.text);
    // An otp without the password step: the generic sign-in failure.
    const skipped = await fresh.post(login.action, { ...login.fields, otp: totp(secret, currentStep()) });
    expect(headingOf(skipped.text)).toBe('Sign in');
    expect(skipped.text).toContain('The username or password is not correct');
    const otpPage = await fresh.post(login.action, { ...formOf(skipped.text).fields, username: USER.username, password: USER.password });
    expect(headingOf(otpPage.text)).toBe('Two-step verification');
    const wrong = await fresh.post(login.action, { ...formOf(otpPage.text).fields, otp: totp(secret, currentStep() + 5) });
    expect(wrong.status).toBe(200);
    expect(headingOf(wrong.text)).toBe('Two-step verification');
    expect(wrong.text).toContain(OTP_FAILED);
    expect(fresh.cookies.has('latchkey-session-demo')).toBe(false);
  });
});
