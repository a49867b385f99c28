import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../gateway.options.js';
import { clearCookie, type CookieOptions, csrfCookie, readCookie, secureCookiesFor, sessionCookie, setCookie, tenantCookie } from '../http/cookies.js';
import { csrfBinding, CsrfProtection, type CsrfResult, originOf } from '../http/csrf.js';
import { FIELDS } from '../pages/fields.js';

/** Who passed the password step and still owes a one-time code (ADR 0009: the controller's state). */
export interface PendingLogin {
  interactionId: string;
  userId: string;
  username: string;
}

const PENDING_LOGIN_SECONDS = 300;

/**
 * CSRF tokens, the session cookie and the signed "password step passed" cookie of the pages
 * (ADR 0011, ADR 0013). One key: the CSRF MAC and the cookie MAC use keys derived from it with
 * different labels, so neither can stand in for the other.
 */
@Injectable()
export class PageSecurity {
  readonly cookies: CookieOptions;
  readonly expectedOrigin: string;
  private readonly csrf: CsrfProtection;
  private readonly stateKey: Buffer;

  constructor(@Inject(GATEWAY_OPTIONS) options: GatewayOptions) {
    const key = Buffer.from(options.cookieKey ?? randomBytes(32));
    this.csrf = new CsrfProtection({ key: derive(key, 'csrf') });
    this.stateKey = derive(key, 'pending-login');
    this.cookies = { secureCookies: secureCookiesFor(options.publicUrl) };
    this.expectedOrigin = originOf(options.publicUrl);
  }

  /** A CSRF token for a form about `formId` (sets the binding cookie when the browser has none). */
  formToken(request: FastifyRequest, reply: FastifyReply, tenant: string, formId: string): string {
    return this.formTokens(request, reply, tenant, [formId])[0] as string;
  }

  /**
   * Tokens for several forms of one page (one per thing a form acts on). The binding is read or made
   * once: a browser without the cookie would otherwise get a new binding per form, and only the last
   * `Set-Cookie` would stick, leaving every other form of the page unverifiable.
   */
  formTokens(request: FastifyRequest, reply: FastifyReply, tenant: string, formIds: readonly string[]): string[] {
    const binding = csrfBinding(request, reply, csrfCookie(tenant, this.cookies));
    return formIds.map((formId) => this.csrf.issue({ tenant, binding, formId }));
  }

  /** The first check of every page POST: same origin, and the form's token for this browser and form. */
  verifyPost(request: FastifyRequest, tenant: string, formId: string, params: Record<string, string>): CsrfResult {
    return this.csrf.verifyPost(request, { cookie: csrfCookie(tenant, this.cookies), tenant, formId, token: params[FIELDS.csrf], expectedOrigin: this.expectedOrigin });
  }

  sessionId(request: FastifyRequest, tenant: string): string | undefined {
    const value = readCookie(request, sessionCookie(tenant, this.cookies));
    return value ? value : undefined;
  }

  setSession(reply: FastifyReply, tenant: string, sessionId: string, expiresAt: string): void {
    setCookie(reply, sessionCookie(tenant, this.cookies), sessionId, { maxAgeSeconds: (Date.parse(expiresAt) - Date.now()) / 1000 });
  }

  clearSession(reply: FastifyReply, tenant: string): void {
    clearCookie(reply, sessionCookie(tenant, this.cookies));
  }

  /** Remembers, for five minutes, that this browser passed the password step of this interaction. */
  setPendingLogin(reply: FastifyReply, tenant: string, pending: PendingLogin): void {
    const payload = Buffer.from(JSON.stringify({ ...pending, exp: Math.floor(Date.now() / 1000) + PENDING_LOGIN_SECONDS })).toString('base64url');
    setCookie(reply, this.pendingCookie(tenant), `${payload}.${this.stateMac(tenant, payload).toString('base64url')}`, { maxAgeSeconds: PENDING_LOGIN_SECONDS });
  }

  /** The pending login of this interaction, if the cookie is genuine, unexpired and for it. */
  pendingLogin(request: FastifyRequest, tenant: string, interactionId: string): PendingLogin | undefined {
    const value = readCookie(request, this.pendingCookie(tenant));
    const match = value ? /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!match) return undefined;
    const [, payload, mac] = match as unknown as [string, string, string];
    if (!timingSafeEqual(Buffer.from(mac, 'base64url'), this.stateMac(tenant, payload))) return undefined;
    try {
      const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PendingLogin & { exp: number };
      if (state.exp <= Math.floor(Date.now() / 1000) || state.interactionId !== interactionId) return undefined;
      return { interactionId: state.interactionId, userId: state.userId, username: state.username };
    } catch {
      return undefined;
    }
  }

  clearPendingLogin(reply: FastifyReply, tenant: string): void {
    clearCookie(reply, this.pendingCookie(tenant));
  }

  private pendingCookie(tenant: string) {
    return tenantCookie('login', tenant, this.cookies);
  }

  private stateMac(tenant: string, payload: string): Buffer {
    return createHmac('sha256', this.stateKey).update(`${tenant.length}:${tenant}:${payload}`).digest();
  }
}

function derive(key: Buffer, label: string): Buffer {
  return createHmac('sha256', key).update(`latchkey.gateway.${label}.v1`).digest();
}

/**
 * The OIDC `sid` of a browser session: derived from the session id, never the id itself (the ID token
 * is read by the client; the cookie value is a bearer secret of the browser).
 */
export function sidOf(sessionId: string): string {
  return createHash('sha256').update(`latchkey.sid.v1:${sessionId}`).digest('base64url');
}

/** The client's address (the peer, or the forwarded client behind a trusted proxy); IPv4-mapped IPv6 as plain IPv4. */
export function clientIpOf(request: FastifyRequest): string {
  // Fastify's `request.ip` is the peer, or the forwarded client when the peer is a trusted proxy
  // (TRUSTED_PROXIES): a forged X-Forwarded-For from anyone else is ignored, and behind an ingress the
  // throttles count each client rather than the ingress controller.
  const address = request.ip || request.socket.remoteAddress || 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}
