import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { csrfCookie } from './cookies.js';
import { checkSameOrigin, csrfBinding, CsrfProtection, newCsrfBinding, originOf } from './csrf.js';

const key = randomBytes(32);
let clock = 1_750_000_000_000;
const csrf = new CsrfProtection({ key, ttlSeconds: 600, now: () => clock });
const binding = newCsrfBinding();
const context = { tenant: 'demo', binding, formId: 'interaction-1' };

describe('CsrfProtection', () => {
  it('accepts the token it issued for this browser and form', () => {
    const token = csrf.issue(context);
    expect(token).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify(context, token)).toEqual({ ok: true });
  });

  it('rejects the token with another browser\'s cookie', () => {
    const token = csrf.issue(context);
    expect(csrf.verify({ ...context, binding: newCsrfBinding() }, token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('rejects the token for another interaction or tenant', () => {
    const token = csrf.issue(context);
    expect(csrf.verify({ ...context, formId: 'interaction-2' }, token)).toEqual({ ok: false, reason: 'invalid' });
    expect(csrf.verify({ ...context, tenant: 'other' }, token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('rejects an expired token', () => {
    const token = csrf.issue(context);
    clock += 600_000;
    try {
      expect(csrf.verify(context, token)).toEqual({ ok: false, reason: 'expired' });
    } finally {
      clock -= 600_000;
    }
  });

  it('rejects a tampered token: a later expiry, a flipped MAC, a token from another key', () => {
    const token = csrf.issue(context);
    const [expires, mac] = token.split('.') as [string, string];
    expect(csrf.verify(context, `${Number(expires) + 3600}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    const flipped = Buffer.from(mac, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(csrf.verify(context, `${expires}.${flipped.toString('base64url')}`)).toEqual({ ok: false, reason: 'invalid' });
    const other = new CsrfProtection({ key: randomBytes(32), now: () => clock });
    expect(csrf.verify(context, other.issue(context))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('rejects missing and malformed tokens and bindings', () => {
    const token = csrf.issue(context);
    expect(csrf.verify(context, undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(csrf.verify({ ...context, binding: '' }, token)).toEqual({ ok: false, reason: 'missing' });
    expect(csrf.verify(context, 'garbage')).toEqual({ ok: false, reason: 'malformed' });
    expect(csrf.verify(context, `${token}x`)).toEqual({ ok: false, reason: 'malformed' });
    expect(csrf.verify({ ...context, binding: 'short' }, token)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts tokens of the previous key during a rotation', () => {
    const rotated = new CsrfProtection({ key: randomBytes(32), previousKeys: [key], now: () => clock });
    expect(rotated.verify(context, csrf.issue(context))).toEqual({ ok: true });
  });

  it('refuses a short key', () => {
    expect(() => new CsrfProtection({ key: randomBytes(16) })).toThrow(TypeError);
  });
});

describe('checkSameOrigin', () => {
  const origin = originOf('https://id.example.com/');

  it('accepts a same-origin POST by Origin, by Referer, or by Fetch Metadata', () => {
    expect(checkSameOrigin({ origin: 'https://id.example.com', 'sec-fetch-site': 'same-origin' }, origin)).toEqual({ ok: true, by: 'origin' });
    expect(checkSameOrigin({ referer: 'https://id.example.com/t/demo/login?x=1' }, origin)).toEqual({ ok: true, by: 'referer' });
    // Chromium's Origin for a page under Referrer-Policy: no-referrer, with the browser vouching for it.
    expect(checkSameOrigin({ origin: 'null', 'sec-fetch-site': 'same-origin' }, origin)).toEqual({ ok: true, by: 'fetch-metadata' });
  });

  it('accepts when neither Origin nor Referer is sent (the signed token is the primary defence)', () => {
    expect(checkSameOrigin({}, origin)).toEqual({ ok: true, by: 'absent' });
  });

  it('rejects cross-origin and same-site POSTs', () => {
    expect(checkSameOrigin({ origin: 'https://evil.example' }, origin)).toEqual({ ok: false, reason: 'origin-mismatch' });
    expect(checkSameOrigin({ origin: 'http://id.example.com' }, origin)).toEqual({ ok: false, reason: 'origin-mismatch' });
    expect(checkSameOrigin({ origin: 'https://id.example.com:8443' }, origin)).toEqual({ ok: false, reason: 'origin-mismatch' });
    expect(checkSameOrigin({ origin: 'null' }, origin)).toEqual({ ok: false, reason: 'origin-mismatch' });
    expect(checkSameOrigin({ 'sec-fetch-site': 'cross-site', origin: 'https://id.example.com' }, origin)).toEqual({ ok: false, reason: 'cross-site' });
    expect(checkSameOrigin({ 'sec-fetch-site': 'same-site' }, origin)).toEqual({ ok: false, reason: 'cross-site' });
    expect(checkSameOrigin({ referer: 'https://id.example.com.evil.example/' }, origin)).toEqual({ ok: false, reason: 'referer-mismatch' });
    expect(checkSameOrigin({ referer: 'not a url' }, origin)).toEqual({ ok: false, reason: 'referer-mismatch' });
  });
});

describe('a form round trip over Fastify', () => {
  it('binds on GET, accepts the POST from the same browser and page, rejects a cross-origin one', async () => {
    const cookie = csrfCookie('demo', { secureCookies: true });
    const expectedOrigin = 'https://id.example.com';
    const app = Fastify();
    app.get('/form', (request, reply) => csrf.issue({ tenant: 'demo', binding: csrfBinding(request, reply, cookie), formId: 'i-1' }));
    app.post('/form', (request) => {
      const token = (request.body as { token?: string } | undefined)?.token;
      return csrf.verifyPost(request, { cookie, tenant: 'demo', formId: 'i-1', token, expectedOrigin });
    });
    const get = await app.inject({ url: '/form' });
    const setCookieHeader = String(get.headers['set-cookie']);
    const cookieValue = setCookieHeader.split(';')[0] as string;
    const token = get.body;

    // The binding is reused while the cookie is there.
    const again = await app.inject({ url: '/form', headers: { cookie: cookieValue } });
    expect(again.headers['set-cookie']).toBeUndefined();

    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/form', payload: { token }, headers }).then((r) => r.json());
    expect(await post({ cookie: cookieValue, origin: expectedOrigin })).toEqual({ ok: true });
    expect(await post({ origin: expectedOrigin })).toEqual({ ok: false, reason: 'missing' });
    expect(await post({ cookie: `${cookie.name}=${newCsrfBinding()}`, origin: expectedOrigin })).toEqual({ ok: false, reason: 'invalid' });
    expect(await post({ cookie: cookieValue, origin: 'https://evil.example' })).toEqual({ ok: false, reason: 'cross-origin' });
    await app.close();
  });
});
