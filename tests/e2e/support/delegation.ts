// Helpers of the delegation e2e tests: a clock offset that puts one service at a known wall-clock
// moment (Tuesday 10:00 in Zurich), RFC 8693 token exchange as a public client, and bearer JSON calls.
import { clientFields, type WebClient } from './oauth.js';
import { http, type HttpResult, postForm } from './platform.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const DAY_MS = 86_400_000;
export interface WallClock {
  weekday: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** What a clock on the wall in `timeZone` shows at `ms`. */
export function wallClock(ms: number, timeZone: string): WallClock {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  return {
    weekday: String(parts.weekday).toLowerCase().slice(0, 3) as WallClock['weekday'],
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
  };
}

/** The instant at which the wall clock in `timeZone` shows `hour`:00 on the given calendar day. */
function instantOf(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour);
  // The zone's offset at (about) that moment; 10:00 is never inside a DST switch (those happen at night).
  const shown = wallClock(asUtc, timeZone);
  const offset = Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute) - asUtc;
  return asUtc - offset;
}

/** The first `weekday` at `hour`:00 in `timeZone` strictly after `after` (ms since the epoch). */
export function nextWallClock(after: number, weekday: WallClock['weekday'], hour: number, timeZone: string): number {
  for (let days = 0; days <= 8; days++) {
    const date = wallClock(after + days * DAY_MS, timeZone);
    if (date.weekday !== weekday) continue;
    const instant = instantOf(date.year, date.month, date.day, hour, timeZone);
    if (instant > after) return instant;
  }
  throw new Error(`no ${weekday} ${hour}:00 within 8 days`);
}

/**
 * A service clock shifted by `offsetMs` (the delegation service's `LATCHKEY_CLOCK_OFFSET_MS`): its
 * "now" keeps running with real time, so a test reads it when it needs it rather than once.
 */
export class ShiftedClock {
  constructor(readonly offsetMs: number) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** An ISO timestamp `deltaMs` from the shifted now. */
  iso(deltaMs = 0): string {
    return new Date(this.now() + deltaMs).toISOString();
  }
}

export interface ExchangeOptions {
  resource?: string;
  audience?: string;
  scope?: string;
  client: WebClient;
  /** Extra or overriding form parameters. */
  extra?: Record<string, string>;
}

/** RFC 8693 token exchange at the tenant's token endpoint: `subject_token` is the caller's own access token. */
export function exchangeToken(issuer: string, subjectToken: string, options: ExchangeOptions): Promise<HttpResult> {
  const { params, authorization } = clientFields(options.client);
  return postForm(
    `${issuer}/oauth2/token`,
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      ...(options.resource ? { resource: options.resource } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.scope ? { scope: options.scope } : {}),
      ...params,
      ...options.extra,
    },
    authorization,
  );
}

/** A JSON call with a bearer token (none when `token` is null). */
export function bearerJson(method: string, url: string, token: string | null, json?: unknown): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  return http(url, { method, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
}

/**
 * Polls `attempt` until it returns true or `withinMs` passed; the elapsed time (for "within 1 s"
 * assertions), or Infinity when it never became true.
 */
export async function timeUntil(attempt: () => Promise<boolean>, withinMs: number, everyMs = 50): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await attempt()) return performance.now() - started;
    if (performance.now() - started > withinMs) return Number.POSITIVE_INFINITY;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
