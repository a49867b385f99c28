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

describe('authorizeBearer with delegated tokens (RFC 8693 act / gid)', () => {
  const GRANT_ID = '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f';
  const delegatedClaims = (overrides: Partial<AccessTokenClaims> = {}) =>
    claims({ sub: 'user-adam', client_id: 'demo-app', aud: 'device:lock-1', scope: 'lock:unlock', act: { sub: 'user-bianca' }, gid: GRANT_ID, ...overrides });
  const grant = (overrides: Record<string, unknown> = {}) => ({
    id: GRANT_ID,
    tenant: 'demo',
    delegator: { id: 'user-adam', name: 'adam' },
    delegatee: { type: 'user', id: 'user-bianca', name: 'bianca' },
    resource: 'device:lock-1',
    scopes: ['lock:unlock'],
    ...overrides,
  });

  /** The token service says the token is live; the delegation service answers `check` with `answer`. */
  function services(tokenClaims: AccessTokenClaims, answer: unknown | (() => never)) {
    const calls: string[] = [];
    const client = {
      async send(contract: RequestContract, request: unknown) {
        calls.push(contract.subject);
        if (contract.subject === 'latchkey.token.v1.verify-access-token') return { active: true, claims: tokenClaims };
        if (contract.subject === 'latchkey.delegation.v1.check') {
          // The guard must send a request the contract accepts (a gid that is not a UUID is caught by the client).
          const parsed = contract.request.safeParse(request);
          if (!parsed.success) throw new ContractError('invalid_request', 'grantId: invalid');
          if (typeof answer === 'function') return (answer as () => never)();
          return answer;
        }
        throw new Error(`unexpected ${contract.subject}`);
      },
    } as unknown as ContractClient;
    return { client, calls };
  }

  const accepting = request({ requirement: { scopes: ['lock:unlock'], delegated: 'accept' } });

  it('refuses a delegated token by default (403, no WWW-Authenticate), without asking the delegation service', async () => {
    const { client, calls } = services(delegatedClaims({ scope: 'devices:write' }), { usable: true, grant: grant() });
    const error = await failure(authorizeBearer(client, request()));
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/delegated token/);
    expect(error.extras.headers).toBeUndefined();
    expect(calls).toEqual(['latchkey.token.v1.verify-access-token']);
  });

  it("refuses one where the requirement says 'refuse', even with every scope", async () => {
    const { client } = services(delegatedClaims({ scope: 'lock:unlock' }), { usable: true, grant: grant() });
    expect((await failure(authorizeBearer(client, request({ requirement: { scopes: ['lock:unlock'], delegated: 'refuse' } })))).status).toBe(403);
  });

  it('refuses a token that only names a grant (gid without act) as delegated too', async () => {
    const { client } = services(claims({ sub: 'user-adam', client_id: 'demo-app', scope: 'devices:write', gid: GRANT_ID }), { usable: true, grant: grant() });
    expect((await failure(authorizeBearer(client, request()))).status).toBe(403);
  });

  it('accepts one where the route accepts them and the grant is usable now: the actor is the acting party, for the subject', async () => {
    const { client, calls } = services(delegatedClaims(), { usable: true, grant: grant() });
    const principal = await authorizeBearer(client, accepting);
    expect(principal).toMatchObject({ actor: { type: 'user', id: 'user-bianca' }, onBehalfOf: 'user-adam', gid: GRANT_ID, act: { sub: 'user-bianca' }, scopes: ['lock:unlock'] });
    // The grant as checked now goes along: the policy step decides with it (context.grant).
    expect(principal.grant).toMatchObject({ id: GRANT_ID, delegatee: { id: 'user-bianca' }, resource: 'device:lock-1' });
    expect(calls).toEqual(['latchkey.token.v1.verify-access-token', 'latchkey.delegation.v1.check']);
  });

  it('takes the acting party’s type from the grant (an app acting for a person)', async () => {
    const { client } = services(delegatedClaims({ act: { sub: 'fleet-app' }, client_id: 'fleet-app' }), { usable: true, grant: grant({ delegatee: { type: 'client', id: 'fleet-app', name: 'fleet-app' } }) });
    expect((await authorizeBearer(client, accepting)).actor).toEqual({ type: 'client', id: 'fleet-app' });
  });

  it('refuses with 401 invalid_token when the grant no longer allows it, with the reason in the problem', async () => {
    const { client } = services(delegatedClaims(), { usable: false, reason: 'outside the grant’s weekdays' });
    const error = await failure(authorizeBearer(client, accepting));
    expect(error.status).toBe(401);
    expect(error.message).toBe('the delegation no longer allows this');
    expect(error.extras.headers?.['www-authenticate']).toBe(`Bearer realm="${REALM}", error="invalid_token", error_description="the delegation no longer allows this"`);
    expect(error.extras.problem).toEqual({ reason: 'outside the grant’s weekdays' });
  });

  it.each([
    ['a grant that is gone', () => {
      throw new ContractError('not_found', 'no such grant');
    }, {}],
    ['a gid that is not a UUID', { usable: true, grant: grant() }, { gid: 'not-a-uuid' }],
    ['a grant of someone else (act.sub is not its delegatee)', { usable: true, grant: grant() }, { act: { sub: 'user-mallory' } }],
    ['a grant of another tenant', { usable: true, grant: grant({ tenant: 'other' }) }, {}],
    ['an act without a gid', { usable: true, grant: grant() }, { gid: undefined }],
  ] as const)('refuses %s with 401', async (_what, answer, overrides) => {
    const tokenClaims = { ...delegatedClaims(), ...overrides } as AccessTokenClaims;
    if ('gid' in overrides && overrides.gid === undefined) delete tokenClaims.gid;
    const { client } = services(tokenClaims, answer);
    expect((await failure(authorizeBearer(client, accepting))).status).toBe(401);
  });

  it('never grants more than the grant allows now: a scope outside it is insufficient_scope', async () => {
    const { client } = services(delegatedClaims({ scope: 'lock:unlock lock:configure' }), { usable: true, grant: grant() });
    const error = await failure(authorizeBearer(client, request({ requirement: { scopes: ['lock:configure'], delegated: 'accept' } })));
    expect(error.status).toBe(403);
    expect(error.extras.headers?.['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('lets an unavailable delegation service be a 503, not a 401', async () => {
    const { client } = services(delegatedClaims(), () => {
      throw new ContractError('unavailable', 'no timely reply');
    });
    await expect(authorizeBearer(client, accepting)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('leaves a direct token on an accepting route alone: no grant lookup, no onBehalfOf', async () => {
    const { client, calls } = services(claims({ sub: 'user-adam', client_id: 'demo-app', scope: 'lock:unlock' }), () => {
      throw new Error('must not be asked');
    });
    const principal = await authorizeBearer(client, accepting);
    expect(principal).toMatchObject({ actor: { type: 'user', id: 'user-adam' }, onBehalfOf: null, act: null, gid: null, grant: null });
    expect(calls).toEqual(['latchkey.token.v1.verify-access-token']);
  });
});
