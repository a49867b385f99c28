import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The gateway's cookies, without a plugin (ADR 0011). Every cookie belongs to one tenant:
 *
 * - over https (`secureCookies`): `__Host-latchkey-<kind>-<tenant>`, `Secure`, `Path=/`, no `Domain`.
 *   The `__Host-` prefix (RFC 6265bis §4.1.3.2) is what stops a sibling subdomain or a plain-http
 *   response from planting or overwriting the cookie, and it requires exactly `Path=/`; the tenant
 *   is therefore in the name.
 * - over http (local development): `latchkey-<kind>-<tenant>`, `Path=/t/<tenant>/`, no `Secure`
 *   (a browser drops a `Secure` cookie set over plain http on anything but localhost).
 *
 * Always `HttpOnly` and `SameSite=Lax` (the session must ride along the top-level GET redirect from
 * the client to `/authorize`; every POST of the pages is same-origin).
 */

export interface CookieOptions {
  /** `true` when the public URL is https (see `secureCookiesFor`). */
  secureCookies: boolean;
}

/** Where and how one cookie of one tenant lives. */
export interface CookieSpec {
  name: string;
  path: string;
  secure: boolean;
}

export interface SetCookieOptions {
  /** Lifetime in seconds; without it, a session cookie (ends with the browser session). */
  maxAgeSeconds?: number;
}

/** RFC 6265 §4.1.1 cookie-octet: no CTLs, white space, DQUOTE, comma, semicolon or backslash. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
/** RFC 7230 token, as a cookie-name. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const KIND = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const TENANT = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Cookies are Secure exactly when the gateway is reached over https. */
export function secureCookiesFor(publicUrl: string): boolean {
  return new URL(publicUrl).protocol === 'https:';
}

/** The cookie `kind` (e.g. `session`, `csrf`) of a tenant. */
export function tenantCookie(kind: string, tenant: string, options: CookieOptions): CookieSpec {
  if (!KIND.test(kind)) throw new TypeError(`tenantCookie: bad cookie kind ${JSON.stringify(kind)}`);
  if (!TENANT.test(tenant) || tenant.length > 63) throw new TypeError('tenantCookie: bad tenant id');
  return options.secureCookies
    ? { name: `__Host-latchkey-${kind}-${tenant}`, path: '/', secure: true }
    : { name: `latchkey-${kind}-${tenant}`, path: `/t/${tenant}/`, secure: false };
}

/** The tenant's sign-in session cookie. */
export function sessionCookie(tenant: string, options: CookieOptions): CookieSpec {
  return tenantCookie('session', tenant, options);
}

/** The tenant's CSRF browser-binding cookie (csrf.ts). */
export function csrfCookie(tenant: string, options: CookieOptions): CookieSpec {
  return tenantCookie('csrf', tenant, options);
}

/** Enforces the prefix rules of RFC 6265bis §4.1.3 on any spec, not only ours. */
function checkSpec(cookie: CookieSpec): void {
  if (!COOKIE_NAME.test(cookie.name)) throw new TypeError('cookie: bad name');
  if (!cookie.path.startsWith('/') || /[\p{Cc};]/u.test(cookie.path)) throw new TypeError('cookie: bad path');
  const lower = cookie.name.toLowerCase();
  if (lower.startsWith('__host-') && !(cookie.secure && cookie.path === '/')) throw new TypeError('cookie: a __Host- cookie must be Secure with Path=/');
  if (lower.startsWith('__secure-') && !cookie.secure) throw new TypeError('cookie: a __Secure- cookie must be Secure');
}

/** The `Set-Cookie` value. `value` must already be cookie-safe (we only store base64url). */
export function serializeCookie(cookie: CookieSpec, value: string, options: SetCookieOptions = {}): string {
  checkSpec(cookie);
  if (!COOKIE_VALUE.test(value) || value.length > 4000) throw new TypeError('cookie: value is not cookie-safe (use base64url)');
  const parts = [`${cookie.name}=${value}`, `Path=${cookie.path}`];
  if (options.maxAgeSeconds !== undefined) {
    const maxAge = Math.max(0, Math.floor(options.maxAgeSeconds));
    parts.push(`Max-Age=${maxAge}`);
    if (maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  if (cookie.secure) parts.push('Secure');
  parts.push('HttpOnly', 'SameSite=Lax');
  return parts.join('; ');
}

/**
 * The Cookie request header as name → value (RFC 6265 §5.4 / §4.2.1): pairs split at `;`, name and
 * value trimmed, one pair of surrounding double quotes removed, no percent-decoding. A name sent
 * twice keeps its first value: browsers put the cookie with the longer (more specific) path first.
 * Pairs without `=` are ignored.
 */
export function parseCookieHeader(header: string | readonly string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  const text = typeof header === 'string' ? header : header.join('; ');
  if (text.length > 16_384) return cookies;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** The value of a cookie of this request, if it was sent. */
export function readCookie(request: Pick<FastifyRequest, 'headers'>, cookie: CookieSpec): string | undefined {
  return parseCookieHeader(request.headers.cookie).get(cookie.name);
}

/** Adds a `Set-Cookie` to the reply (others already set are kept). */
export function setCookie(reply: FastifyReply, cookie: CookieSpec, value: string, options: SetCookieOptions = {}): FastifyReply {
  return reply.header('set-cookie', serializeCookie(cookie, value, options));
}

/** Deletes the cookie: same name, path and Secure as when it was set, expired. */
export function clearCookie(reply: FastifyReply, cookie: CookieSpec): FastifyReply {
  return reply.header('set-cookie', serializeCookie(cookie, '', { maxAgeSeconds: 0 }));
}
