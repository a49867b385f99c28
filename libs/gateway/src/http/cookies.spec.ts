import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { clearCookie, csrfCookie, parseCookieHeader, readCookie, secureCookiesFor, serializeCookie, sessionCookie, setCookie, tenantCookie } from './cookies.js';

describe('tenant cookies', () => {
  it('over https: __Host- prefix, Secure, Path=/ and the tenant in the name', () => {
    const cookie = sessionCookie('demo', { secureCookies: true });
    expect(cookie).toEqual({ name: '__Host-latchkey-session-demo', path: '/', secure: true });
    expect(serializeCookie(cookie, 'abc', { maxAgeSeconds: 3600 })).toBe('__Host-latchkey-session-demo=abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax');
  });

  it('over http: no prefix, not Secure, Path scoped to /t/<tenant>/', () => {
    const cookie = csrfCookie('acme-2', { secureCookies: false });
    expect(cookie).toEqual({ name: 'latchkey-csrf-acme-2', path: '/t/acme-2/', secure: false });
    expect(serializeCookie(cookie, 'v')).toBe('latchkey-csrf-acme-2=v; Path=/t/acme-2/; HttpOnly; SameSite=Lax');
  });

  it('never emits a Domain attribute (which __Host- forbids)', () => {
    for (const secureCookies of [true, false]) expect(serializeCookie(sessionCookie('demo', { secureCookies }), 'v')).not.toMatch(/domain=/i);
  });

  it('enforces the __Host- rules: Secure and Path=/ or nothing is sent', () => {
    expect(() => serializeCookie({ name: '__Host-x', path: '/t/demo/', secure: true }, 'v')).toThrow(/__Host-/);
    expect(() => serializeCookie({ name: '__Host-x', path: '/', secure: false }, 'v')).toThrow(/__Host-/);
    expect(() => serializeCookie({ name: '__host-x', path: '/', secure: false }, 'v')).toThrow(/__Host-/);
    expect(() => serializeCookie({ name: '__Secure-x', path: '/', secure: false }, 'v')).toThrow(/__Secure-/);
  });

  it('refuses values and names that would break the header', () => {
    const cookie = sessionCookie('demo', { secureCookies: false });
    for (const value of ['a;b', 'a b', 'a"b', 'a,b', 'a\\b', 'a\nSet-Cookie: x=y']) expect(() => serializeCookie(cookie, value)).toThrow(TypeError);
    expect(() => serializeCookie({ ...cookie, name: 'a=b' }, 'v')).toThrow(TypeError);
    expect(() => tenantCookie('session', '../x', { secureCookies: false })).toThrow(TypeError);
    expect(() => tenantCookie('Session;', 'demo', { secureCookies: false })).toThrow(TypeError);
  });

  it('clearing repeats name, path and Secure and expires the cookie', () => {
    const cookie = sessionCookie('demo', { secureCookies: true });
    expect(serializeCookie(cookie, '', { maxAgeSeconds: 0 })).toBe('__Host-latchkey-session-demo=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax');
  });

  it('secure exactly when the public URL is https', () => {
    expect(secureCookiesFor('https://id.example.com')).toBe(true);
    expect(secureCookiesFor('http://localhost:3000')).toBe(false);
  });
});

describe('parseCookieHeader (RFC 6265 §5.4)', () => {
  it('splits pairs at ";", trims, unquotes and keeps "=" inside values', () => {
    const cookies = parseCookieHeader(' a=1;b = "two" ; c=x=y==; flag; =nameless; d=');
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['c', 'x=y=='],
      ['d', ''],
    ]);
  });

  it('keeps the first of two cookies with one name (the more specific path comes first)', () => {
    expect(parseCookieHeader('s=path-specific; s=root').get('s')).toBe('path-specific');
  });

  it('is not fooled by prototype names', () => {
    const cookies = parseCookieHeader('__proto__=x; constructor=y');
    expect(cookies.get('__proto__')).toBe('x');
    expect(cookies.get('toString')).toBeUndefined();
  });

  it('reads nothing from an absent header', () => {
    expect(parseCookieHeader(undefined).size).toBe(0);
  });
});

describe('on a Fastify reply', () => {
  it('sets several cookies, reads them back and clears one', async () => {
    const options = { secureCookies: true };
    const app = Fastify();
    app.get('/set', (_request, reply) => {
      setCookie(reply, sessionCookie('demo', options), 'sid', { maxAgeSeconds: 60 });
      setCookie(reply, csrfCookie('demo', options), 'bind');
      return 'ok';
    });
    app.get('/read', (request) => ({ session: readCookie(request, sessionCookie('demo', options)) ?? null, other: readCookie(request, sessionCookie('other', options)) ?? null }));
    app.get('/clear', (_request, reply) => {
      clearCookie(reply, sessionCookie('demo', options));
      return 'ok';
    });
    const set = await app.inject({ url: '/set' });
    expect(set.headers['set-cookie']).toEqual([
      '__Host-latchkey-session-demo=sid; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax',
      '__Host-latchkey-csrf-demo=bind; Path=/; Secure; HttpOnly; SameSite=Lax',
    ]);
    const read = await app.inject({ url: '/read', headers: { cookie: '__Host-latchkey-csrf-demo=bind; __Host-latchkey-session-demo=sid' } });
    expect(read.json()).toEqual({ session: 'sid', other: null });
    const cleared = await app.inject({ url: '/clear' });
    expect(cleared.headers['set-cookie']).toMatch(/^__Host-latchkey-session-demo=; Path=\/; Max-Age=0;/);
    await app.close();
  });
});
