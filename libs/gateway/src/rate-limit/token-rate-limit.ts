import type { TenantConfig } from '@latchkey/config';
import { HttpFailure } from '../http/http-errors.js';
import { TokenBuckets, type TokenBucketsOptions } from './token-bucket.js';

/**
 * The token endpoint's per-tenant rate limits (issue #7): one bucket per client id of the tenants
 * file, and one shared by every other request of the tenant (unknown or missing client ids, devices).
 * Per gateway replica: the effective limit is the configured one times the replicas.
 */
export class TokenRateLimiter {
  private readonly buckets: TokenBuckets;

  constructor(options: TokenBucketsOptions = {}) {
    this.buckets = new TokenBuckets(options);
  }

  /** Throws a 429 `HttpFailure` when `clientId` (unverified) is over its tenant's limit. */
  check(tenant: TenantConfig, clientId: string | undefined): void {
    const client = clientId !== undefined ? tenant.clients.find((c) => c.clientId === clientId) : undefined;
    const config = client?.rateLimit ?? tenant.rateLimits;
    if (!config) return;
    // Keys are JSON arrays so that no tenant or client id can forge another's.
    const key = JSON.stringify(client ? [tenant.id, client.clientId] : [tenant.id]);
    const result = this.buckets.take(key, { ratePerSecond: config.tokenRequestsPerSecond, burst: config.burst });
    if (result.allowed) return;
    const seconds = result.retryAfterSeconds;
    throw new HttpFailure(429, 'rate_limited', `too many token requests; retry after ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
  }
}

/**
 * The client id a token request claims, for bucketing only (nothing here is verified): the Basic
 * user name, the `client_id` parameter, or the `sub` of a client assertion (RFC 7523 §3).
 */
export function claimedClientId(authorization: string | undefined, params: Readonly<Record<string, string>>): string | undefined {
  const basic = authorization !== undefined ? /^\s*Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization)?.[1] : undefined;
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (params.client_id) return params.client_id;
  const payload = params.client_assertion?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
