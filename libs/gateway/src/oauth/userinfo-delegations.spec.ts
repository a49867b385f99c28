import { describe, expect, it } from '@jest/globals';
import type { AccessTokenClaims, RequestContract } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { delegationsOf, wantsDelegations, withDelegations } from './userinfo-delegations.js';

const T = 1_900_000_000;
const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({ iss: 'i', sub: 'user-bianca', aud: 'demo-app', client_id: 'demo-app', scope: 'openid delegations', iat: T, exp: T + 300, jti: 'j', tenant: 'demo', ...overrides });
const ENTRY = { access_token: 'at', token_type: 'Bearer' as const, expires_in: 300, scope: ['lock:unlock'], resource: 'device:lock-1', grant_id: '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f' };

describe('wantsDelegations', () => {
  it('is true for a person’s own token with the delegations scope', () => {
    expect(wantsDelegations(claims(), ['openid', 'delegations'])).toBe(true);
  });

  it('is false without the scope', () => {
    expect(wantsDelegations(claims(), ['openid', 'delegations:read'])).toBe(false);
  });

  it('is never true for a delegated token, nor for an app’s or a device’s token', () => {
    expect(wantsDelegations(claims({ sub: 'user-adam', act: { sub: 'user-bianca' }, gid: 'g' }), ['openid', 'delegations'])).toBe(false);
    expect(wantsDelegations(claims({ sub: 'demo-app' }), ['openid', 'delegations'])).toBe(false);
    expect(wantsDelegations(claims({ device_type: 'bike-lock' }), ['openid', 'delegations'])).toBe(false);
  });
});

describe('the delegations claim', () => {
  it('asks the token service for the user’s delegated tokens, issued to the calling client', async () => {
    const calls: Array<{ subject: string; request: unknown }> = [];
    const client = {
      async send(contract: RequestContract, request: unknown) {
        calls.push({ subject: contract.subject, request: contract.request.parse(request) });
        return { delegations: { adam: ENTRY } };
      },
    } as unknown as ContractClient;
    expect(await delegationsOf(client, 'demo', claims())).toEqual({ adam: ENTRY });
    expect(calls).toEqual([{ subject: 'latchkey.token.v1.issue-delegated-tokens', request: { tenant: 'demo', userId: 'user-bianca', clientId: 'demo-app' } }]);
  });

  it('is merged into the identity claims, empty when nothing is shared, leaving the rest as it was', () => {
    const identity = { sub: 'user-bianca', preferred_username: 'bianca' };
    expect(withDelegations(identity, { adam: ENTRY, 'adam#2': ENTRY })).toEqual({ ...identity, delegations: { adam: ENTRY, 'adam#2': ENTRY } });
    expect(withDelegations(identity, {})).toEqual({ ...identity, delegations: {} });
    expect(identity).toEqual({ sub: 'user-bianca', preferred_username: 'bianca' });
  });
});
