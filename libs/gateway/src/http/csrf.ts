import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CookieSpec, readCookie, setCookie } from './cookies.js';

/**
 * CSRF protection for the pages, without JavaScript and without server state (ADR 0011):
 *
 * 1. A signed double-submit token. The browser holds a random *binding* (32 bytes) in an HttpOnly
 *    cookie; each form carries `<expiry>.<HMAC-SHA256(key, tenant, binding, form id, expiry)>`. A POST
 *    is accepted only when the token's MAC matches the cookie it came with, the form id (e.g. the
 *    interaction id) it is posted for, and has not expired. Another site can neither read the cookie
 *    nor compute a MAC, so it cannot produce a matching pair.
 * 2. A same-origin check of the POST (`checkSameOrigin`): Sec-Fetch-Site, then Origin, then Referer.
 */

export interface CsrfOptions {
  /** The HMAC key: at least 32 random bytes. */
  key: Uint8Array;
  /** Keys of the previous rotation, still accepted when verifying (tokens live minutes). */
  previousKeys?: readonly Uint8Array[];
  /** How long a token is valid; default 3600 s (a page left open for a while still works). */
  ttlSeconds?: number;
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
}

/** What a token is bound to. */
export interface CsrfContext {
  tenant: string;
  /** The browser's binding (the CSRF cookie's value). */
  binding: string;
  /** What the form is for: the interaction id, or e.g. `device` for the device code form. */
  formId: string;
}

export type CsrfFailure = 'missing' | 'malformed' | 'expired' | 'invalid' | 'cross-origin';
export type CsrfResult = { ok: true } | { ok: false; reason: CsrfFailure };

const BINDING = /^[A-Za-z0-9_-]{43}$/;
const TOKEN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
const DOMAIN = 'latchkey.csrf.v1';
const MIN_KEY_BYTES = 32;

/** A fresh browser binding: 32 random bytes, base64url (cookie-safe). */
export function newCsrfBinding(): string {
  return randomBytes(32).toString('base64url');
}

function field(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export class CsrfProtection {
  private readonly keys: readonly Buffer[];
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(options: CsrfOptions) {
    this.keys = [options.key, ...(options.previousKeys ?? [])].map((key) => {
      if (key.length < MIN_KEY_BYTES) throw new TypeError(`CSRF key: at least ${MIN_KEY_BYTES} bytes`);
      return Buffer.from(key);
    });
    this.ttlSeconds = options.ttlSeconds ?? 3600;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds <= 0) throw new TypeError('CSRF ttlSeconds: a positive integer');
    this.now = options.now ?? Date.now;
  }

  /** The token for a form (its hidden `csrf_token` field). */
  issue(context: CsrfContext): string {
    if (!BINDING.test(context.binding)) throw new TypeError('CSRF binding: not a binding made by newCsrfBinding');
    const expires = Math.floor(this.now() / 1000) + this.ttlSeconds;
    return `${expires}.${this.mac(this.keys[0] as Buffer, context, expires).toString('base64url')}`;
  }

  /** Checks a posted token against the browser's binding and the form it was posted for. */
  verify(context: CsrfContext, token: string | undefined): CsrfResult {
    if (!token || !context.binding) return { ok: false, reason: 'missing' };
    const match = TOKEN.exec(token);
    if (!match || !BINDING.test(context.binding)) return { ok: false, reason: 'malformed' };
    const expires = Number(match[1]);
    const given = Buffer.from(match[2] as string, 'base64url');
    // Every key is tried (no early exit) so that timing says nothing about which one matched.
    let valid = false;
    for (const key of this.keys) valid = timingSafeEqual(given, this.mac(key, context, expires)) || valid;
    if (!valid) return { ok: false, reason: 'invalid' };
    // Checked after the MAC: an attacker learns nothing from "expired" about a token they forged.
    if (expires <= Math.floor(this.now() / 1000)) return { ok: false, reason: 'expired' };
    return { ok: true };
  }

  /**
   * The whole check of a page's POST: same origin (`checkSameOrigin`), then the token of the form
   * against the binding cookie.
   */
  verifyPost(request: Pick<FastifyRequest, 'headers'>, options: { cookie: CookieSpec; tenant: string; formId: string; token: string | undefined; expectedOrigin: string }): CsrfResult {
    if (!checkSameOrigin(request.headers, options.expectedOrigin).ok) return { ok: false, reason: 'cross-origin' };
    const binding = readCookie(request, options.cookie) ?? '';
    return this.verify({ tenant: options.tenant, binding, formId: options.formId }, options.token);
  }

  private mac(key: Buffer, context: CsrfContext, expires: number): Buffer {
    return createHmac('sha256', key)
      .update(field(DOMAIN))
      .update(field(context.tenant))
      .update(field(context.binding))
      .update(field(context.formId))
      .update(field(String(expires)))
      .digest();
  }
}

/**
 * The browser's binding for rendering a form: the one in its CSRF cookie, or a new one (set on the
 * reply). Only a well-formed binding is reused, so a planted garbage cookie is simply replaced.
 */
export function csrfBinding(request: Pick<FastifyRequest, 'headers'>, reply: FastifyReply, cookie: CookieSpec): string {
  const existing = readCookie(request, cookie);
  if (existing !== undefined && BINDING.test(existing)) return existing;
  const binding = newCsrfBinding();
  setCookie(reply, cookie, binding);
  return binding;
}

/** The origin of the public URL, as browsers send it in `Origin`. */
export function originOf(publicUrl: string): string {
  return new URL(publicUrl).origin;
}

export type SameOriginFailure = 'cross-site' | 'origin-mismatch' | 'referer-mismatch';
export type SameOriginResult = { ok: true; by: 'origin' | 'referer' | 'fetch-metadata' | 'absent' } | { ok: false; reason: SameOriginFailure };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether a POST comes from a page of this origin (OWASP CSRF cheat sheet, "Verifying origin with
 * standard headers" and "Fetch Metadata"):
 * - `Sec-Fetch-Site` other than `same-origin` / `none` is refused (`same-site` too: a sibling
 *   subdomain is not this origin);
 * - `Origin`, when sent, must be exactly `expectedOrigin` (`null` only with `Sec-Fetch-Site:
 *   same-origin`: a same-origin page under `Referrer-Policy: no-referrer` sends `Origin: null`);
 * - without `Origin`, a `Referer` must have that origin;
 * - with neither, the request is let through: some proxies and privacy tools strip both, and the
 *   signed token, not this check, is the primary defence (OWASP allows this when a token is used).
 * `expectedOrigin` comes from the configured public URL, never from the Host header.
 */
export function checkSameOrigin(headers: IncomingHttpHeaders, expectedOrigin: string): SameOriginResult {
  const fetchSite = single(headers['sec-fetch-site'])?.toLowerCase();
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return { ok: false, reason: 'cross-site' };
  const origin = single(headers.origin);
  if (origin !== undefined) {
    if (origin === expectedOrigin) return { ok: true, by: 'origin' };
    if (origin === 'null' && fetchSite === 'same-origin') return { ok: true, by: 'fetch-metadata' };
    return { ok: false, reason: 'origin-mismatch' };
  }
  const referer = single(headers.referer);
  if (referer !== undefined) {
    let refererOrigin: string | undefined;
    try {
      refererOrigin = new URL(referer).origin;
    } catch {
      refererOrigin = undefined;
    }
    return refererOrigin === expectedOrigin ? { ok: true, by: 'referer' } : { ok: false, reason: 'referer-mismatch' };
  }
  return fetchSite === 'same-origin' ? { ok: true, by: 'fetch-metadata' } : { ok: true, by: 'absent' };
}
