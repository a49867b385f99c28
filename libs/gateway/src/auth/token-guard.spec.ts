import { describe, expect, it } from '@jest/globals';
import { type AccessTokenClaims, ContractError, type RequestContract } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { HttpFailure } from '../http/http-errors.js';
import { bearerChallenge, parseBearerHeader } from './bearer.js';
import { actorOf } from './principal.js';
import { authorizeBearer, type BearerRequest } from './token-guard.js';

const REALM = 'https://id.example/t/demo';
const NOW = Math.floor(Date.now() / 1000);

function claims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return { iss: REALM, sub: 'demo-service', aud: 'latchkey', client_id: 'demo-service', scope: 'devices:read devices:write', iat: NOW, exp: NOW + 300, jti: 'j1', tenant: 'demo', ...overrides };
}

/** A ContractClient whose token service answers `verify-access-token` with `answer`. */
function tokenService(answer: unknown | (() => never)) {
  const calls: Array<{ subject: string; request: unknown }> = [];
  const client = {
    async send(contract: RequestContract, request: unknown) {
      calls.push({ subject: contract.subject, request });
      if (typeof answer === 'function') return (answer as () => never)();
      return answer;
    },
  } as unknown as ContractClient;
  return { client, calls };
}

const request = (overrides: Partial<BearerRequest> = {}): BearerRequest => ({ tenant: 'demo', realm: REALM, authorization: 'Bearer abc.def.ghi', requirement: { scopes: ['devices:write'] }, ...overrides });

async function failure(promise: Promise<unknown>): Promise<HttpFailure> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HttpFailure);
  return error as HttpFailure;
}

describe('parseBearerHeader (RFC 6750 §2.1)', () => {
  it('reads the token and tolerates the scheme in any case', () => {
    expect(parseBearerHeader('Bearer abc.DEF-_~+/=')).toEqual({ kind: 'token', token: 'abc.DEF-_~+/=' });
    expect(parseBearerHeader('bearer  xyz ')).toEqual({ kind: 'token', token: 'xyz' });
    expect(parseBearerHeader(undefined)).toEqual({ kind: 'absent' });
  });

  it.each(['Basic abc', 'Bearer', 'Bearer a b', 'Bearer a,b', 'Bearer "a"', ''])('calls %p malformed', (header) => {
    expect(parseBearerHeader(header)).toEqual({ kind: 'malformed' });
  });
});

describe('bearerChallenge (RFC 6750 §3)', () => {
  it('has only the realm when no token was sent, else the error, its description and the scope', () => {
    expect(bearerChallenge(REALM)).toBe(`Bearer realm="${REALM}"`);
    expect(bearerChallenge(REALM, { code: 'insufficient_scope', description: 'more', scope: 'a b' })).toBe(`Bearer realm="${REALM}", error="insufficient_scope", error_description="more", scope="a b"`);
  });
});

describe('actorOf', () => {
  it('is a device when the token names a device type', () => {
    expect(actorOf({ sub: 'd1', client_id: 'd1', device_type: 'bike-lock' })).toEqual({ type: 'device', id: 'd1' });
  });
  it('is a client for client credentials (sub = client_id)', () => {
    expect(actorOf({ sub: 'demo-service', client_id: 'demo-service' })).toEqual({ type: 'client', id: 'demo-service' });
  });
  it('is the user otherwise', () => {
    expect(actorOf({ sub: 'user-1', client_id: 'demo-web' })).toEqual({ type: 'user', id: 'user-1' });
  });
});

describe('authorizeBearer', () => {
  it('lets a live token of the tenant with the scope through, with its actor', async () => {
    const { client, calls } = tokenService({ active: true, claims: claims() });
    const principal = await authorizeBearer(client, request());
    expect(principal).toMatchObject({ tenant: 'demo', scopes: ['devices:read', 'devices:write'], actor: { type: 'client', id: 'demo-service' } });
    expect(calls).toEqual([{ subject: 'latchkey.token.v1.verify-access-token', request: { tenant: 'demo', token: 'abc.def.ghi' } }]);
  });

  it('asks for a token with a bare challenge when none was sent (401)', async () => {
    const { client, calls } = tokenService({ active: true, claims: claims() });
    const error = await failure(authorizeBearer(client, request({ authorization: undefined })));
    expect(error.status).toBe(401);
    expect(error.extras.headers).toEqual({ 'www-authenticate': `Bearer realm="${REALM}"` });
    expect(calls).toEqual([]);
  });

  it('refuses a malformed header with invalid_request (400)', async () => {
    const error = await failure(authorizeBearer(tokenService({}).client, request({ authorization: 'Basic ZGVtbzpzZWNyZXQ=' })));
    expect(error.status).toBe(400);
    expect(error.extras.headers?.['www-authenticate']).toContain('error="invalid_request"');
  });

  it('refuses an inactive (revoked, expired, suspended device) token with invalid_token (401)', async () => {
    const error = await failure(authorizeBearer(tokenService({ active: false }).client, request()));
    expect(error.status).toBe(401);
    expect(error.extras.headers?.['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses a token outside the contract (too long) as invalid', async () => {
    const { client } = tokenService(() => {
      throw new ContractError('invalid_request', 'token: too long');
    });
    expect((await failure(authorizeBearer(client, request()))).status).toBe(401);
  });

  it("refuses another tenant's token even if the token service said active", async () => {
    const error = await failure(authorizeBearer(tokenService({ active: true, claims: claims({ tenant: 'other' }) }).client, request()));
    expect(error.status).toBe(401);
  });

  it('names the missing scope with insufficient_scope (403)', async () => {
    const error = await failure(authorizeBearer(tokenService({ active: true, claims: claims({ scope: 'devices:read' }) }).client, request()));
    expect(error.status).toBe(403);
    expect(error.extras.headers?.['www-authenticate']).toBe(`Bearer realm="${REALM}", error="insufficient_scope", error_description="the access token lacks the scope devices:write", scope="devices:write"`);
  });

  it('refuses an actor the route does not admit (a service claiming a device)', async () => {
    const { client } = tokenService({ active: true, claims: claims({ scope: 'devices:claim' }) });
    const error = await failure(authorizeBearer(client, request({ requirement: { scopes: ['devices:claim'], actors: ['user'] } })));
    expect(error.status).toBe(403);
    expect(error.extras.headers).toBeUndefined();
  });

  it('lets an unavailable token service be a 503, not a 401', async () => {
    const { client } = tokenService(() => {
      throw new ContractError('unavailable', 'no timely reply');
    });
    await expect(authorizeBearer(client, request())).rejects.toMatchObject({ code: 'unavailable' });
  });
});
