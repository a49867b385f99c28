import { describe, expect, it } from '@jest/globals';
import { TenantConfig } from '@latchkey/config';
import { HttpFailure } from '../http/http-errors.js';
import { claimedClientId, TokenRateLimiter } from './token-rate-limit.js';

const tenant = TenantConfig.parse({
  id: 'demo',
  rateLimits: { tokenRequestsPerSecond: 1, burst: 2 },
  clients: [
    { clientId: 'svc', secret: 's', grantTypes: ['client_credentials'] },
    { clientId: 'big', secret: 's', grantTypes: ['client_credentials'], rateLimit: { tokenRequestsPerSecond: 1, burst: 4 } },
  ],
});

function refusal(run: () => void): HttpFailure {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpFailure) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('TokenRateLimiter', () => {
  it('limits each known client on its own, with its override, and unknown ids together', () => {
    const now = 0;
    const limiter = new TokenRateLimiter({ clock: () => now });
    limiter.check(tenant, 'svc');
    limiter.check(tenant, 'svc');
    const failure = refusal(() => limiter.check(tenant, 'svc'));
    expect(failure.status).toBe(429);
    expect(failure.message).toBe('too many token requests; retry after 1 s');
    expect(failure.extras.headers).toEqual({ 'retry-after': '1' });
    for (let i = 0; i < 4; i++) limiter.check(tenant, 'big');
    expect(refusal(() => limiter.check(tenant, 'big')).status).toBe(429);
    limiter.check(tenant, 'stranger-1');
    limiter.check(tenant, undefined);
    expect(refusal(() => limiter.check(tenant, 'stranger-2')).status).toBe(429);
  });

  it('does not limit a tenant without rateLimits', () => {
    const limiter = new TokenRateLimiter({ clock: () => 0 });
    const open = TenantConfig.parse({ id: 'open' });
    for (let i = 0; i < 100; i++) limiter.check(open, 'anyone');
  });
});

describe('claimedClientId', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const jwt = (payload: unknown) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('reads Basic, client_id, or an assertion sub, in that order', () => {
    expect(claimedClientId(basic('a b', 'x'), { client_id: 'other' })).toBe('a b');
    expect(claimedClientId(undefined, { client_id: 'c' })).toBe('c');
    expect(claimedClientId(undefined, { client_assertion: jwt({ sub: 'dev-1' }) })).toBe('dev-1');
  });

  it('gives nothing for what it cannot read', () => {
    expect(claimedClientId('Bearer x', {})).toBeUndefined();
    expect(claimedClientId(undefined, {})).toBeUndefined();
    expect(claimedClientId(undefined, { client_assertion: 'not-a-jwt' })).toBeUndefined();
    expect(claimedClientId(undefined, { client_assertion: jwt({ sub: 1 }) })).toBeUndefined();
  });
});
