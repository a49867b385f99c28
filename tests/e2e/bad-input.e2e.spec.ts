// Refused requests at the token endpoint and the tenant boundary: each answers the exact RFC 6749
// §5.2 error (or RFC 9457 problem for an unknown tenant) with Cache-Control: no-store, and changes
// nothing: no token, no row written, and the next good request still works.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const OTHER_CLIENT = { id: 'other-service', secret: 'other-service-secret' } as const;

// Tenant `demo` as in config/tenants.dev.yaml, and a second tenant `other` with a client of its own.
const TENANTS = `tenants:
  - id: demo
    accessTokenTtlSeconds: 300
    clients:
      - clientId: ${DEMO_CLIENT.id}
        secret: ${DEMO_CLIENT.secret}
        tokenEndpointAuthMethods: [client_secret_basic, client_secret_post]
        grantTypes: [client_credentials]
        scopes: [devices:read, devices:write]
  - id: other
    accessTokenTtlSeconds: 300
    clients:
      - clientId: ${OTHER_CLIENT.id}
        secret: ${OTHER_CLIENT.secret}
        tokenEndpointAuthMethods: [client_secret_basic, client_secret_post]
        grantTypes: [client_credentials]
        scopes: [devices:read]
`;

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let demo: string;
let other: string;
let stateBefore: string;
const demoBasic = basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret);
const otherBasic = basicAuth(OTHER_CLIENT.id, OTHER_CLIENT.secret);

/** Every row the token service keeps (clients, keys, revocations), as one comparable string. */
async function tokenServiceState(): Promise<string> {
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  try {
    const { rows: tables } = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'token' AND table_name NOT LIKE '\\_prisma%' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['oauth_client', 'revoked_token', 'signing_key']));
    const state: Record<string, string[]> = {};
    for (const { table_name: table } of tables) {
      const { rows } = await db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM "token"."${table}" t ORDER BY 1`);
      state[table] = rows.map((r) => r.row);
    }
    return JSON.stringify(state);
  } finally {
    await db.end();
  }
}

beforeAll(async () => {
  tenantsFile = writeTenantsFile(TENANTS);
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  demo = env.platform.issuer('demo');
  other = env.platform.issuer('other');
  // Keys are created at start; take the picture once the platform has settled (one token each).
  await expectGoodRequestWorks();
  expect((await postForm(`${other}/oauth2/token`, { grant_type: 'client_credentials' }, otherBasic)).status).toBe(200);
  stateBefore = await tokenServiceState();
});

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

/** RFC 6749 §5.2: error-description is limited to %x20-21 / %x23-5B / %x5D-7E. */
const ERROR_DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

function expectOAuthError(response: HttpResult, status: number, error: string) {
  expect({ status: response.status, body: response.json }).toEqual({ status, body: { error, error_description: expect.stringMatching(ERROR_DESCRIPTION) } });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]*"/);
}

function expectProblem(response: HttpResult, status: number, title: string) {
  expect({ status: response.status, body: response.json }).toEqual({ status, body: { type: 'about:blank', title, status, detail: expect.any(String) } });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
}

/** After a refused request, a correct one still gets a token. */
async function expectGoodRequestWorks() {
  const response = await postForm(`${demo}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read' }, demoBasic);
  expect(response.status).toBe(200);
  expect(response.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'devices:read' });
  // RFC 6749 §5.1: a response carrying a token must not be cached.
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

/** A token request at tenant demo; `authorization: null` sends no Authorization header. */
const token = (body: Record<string, string> | string, authorization: string | null = demoBasic) => postForm(`${demo}/oauth2/token`, body, authorization ?? undefined);

describe('token endpoint refusals (RFC 6749 §5.2)', () => {
  it('case=should fail because the secret is wrong', async () => {
    const response = await token({ grant_type: 'client_credentials' }, basicAuth(DEMO_CLIENT.id, 'not-the-secret'));
    expectOAuthError(response, 401, 'invalid_client');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the secret is wrong (client_secret_post)', async () => {
    const response = await postForm(`${demo}/oauth2/token`, { grant_type: 'client_credentials', client_id: DEMO_CLIENT.id, client_secret: 'not-the-secret' });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(ERROR_DESCRIPTION) });
    expect(response.headers.get('cache-control')).toBe('no-store');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the client is unknown, with the same answer as a wrong secret', async () => {
    const wrongSecret = await token({ grant_type: 'client_credentials' }, basicAuth(DEMO_CLIENT.id, 'not-the-secret'));
    const unknown = await token({ grant_type: 'client_credentials' }, basicAuth('no-such-client', 'not-the-secret'));
    expectOAuthError(unknown, 401, 'invalid_client');
    expect(unknown.text).toBe(wrongSecret.text);
    expect(unknown.headers.get('www-authenticate')).toBe(wrongSecret.headers.get('www-authenticate'));
    await expectGoodRequestWorks();
  });

  it('case=should fail because no client authentication is given', async () => {
    expectOAuthError(await token({ grant_type: 'client_credentials' }, null), 401, 'invalid_client');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the Authorization header is malformed', async () => {
    for (const header of ['Basic !!!', 'Bearer abc', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      expectOAuthError(await token({ grant_type: 'client_credentials' }, header), 401, 'invalid_client');
    }
    await expectGoodRequestWorks();
  });

  it('case=should fail because grant_type is missing', async () => {
    expectOAuthError(await token({ scope: 'devices:read' }), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the grant_type is not supported', async () => {
    for (const grantType of ['password', 'authorization_code_typo', 'urn:example:unknown-grant']) {
      expectOAuthError(await token({ grant_type: grantType }), 400, 'unsupported_grant_type');
    }
    await expectGoodRequestWorks();
  });

  it('case=should fail because the unsupported grant_type holds characters an error_description may not carry', async () => {
    expectOAuthError(await token({ grant_type: 'x"\\y\u00e9' }), 400, 'unsupported_grant_type');
    expectOAuthError(await token('grant_type=%FF'), 400, 'unsupported_grant_type');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the scope is not allowed for the client', async () => {
    expectOAuthError(await token({ grant_type: 'client_credentials', scope: 'admin' }), 400, 'invalid_scope');
    expectOAuthError(await token({ grant_type: 'client_credentials', scope: 'devices:read admin' }), 400, 'invalid_scope');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the scope is malformed', async () => {
    expectOAuthError(await token({ grant_type: 'client_credentials', scope: 'devices:"read"' }), 400, 'invalid_scope');
    await expectGoodRequestWorks();
  });

  it('case=should fail because a parameter is repeated', async () => {
    expectOAuthError(await token('grant_type=client_credentials&grant_type=client_credentials'), 400, 'invalid_request');
    expectOAuthError(await token('grant_type=client_credentials&scope=devices:read&scope=devices:write'), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because two client authentication methods are used at once', async () => {
    expectOAuthError(await token({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the body is JSON instead of a form', async () => {
    const response = await http(`${demo}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: demoBasic },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expectOAuthError(response, 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the body is malformed JSON or empty JSON', async () => {
    for (const body of ['{"grant_type":', '']) {
      const response = await http(`${demo}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: demoBasic }, body });
      expectOAuthError(response, 400, 'invalid_request');
    }
    await expectGoodRequestWorks();
  });

  it('case=should fail because the content type is not a form', async () => {
    const form = new FormData();
    form.set('grant_type', 'client_credentials');
    const requests: RequestInit[] = [
      { headers: { 'content-type': 'text/plain', authorization: demoBasic }, body: 'grant_type=client_credentials' },
      { headers: { 'content-type': 'application/xml', authorization: demoBasic }, body: '<grant_type>client_credentials</grant_type>' },
      { headers: { 'content-type': 'not a media type', authorization: demoBasic }, body: 'grant_type=client_credentials' },
      { headers: { authorization: demoBasic }, body: form },
      { headers: { authorization: demoBasic } },
    ];
    for (const init of requests) expectOAuthError(await http(`${demo}/oauth2/token`, { method: 'POST', ...init }), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the form body is not a set of parameters', async () => {
    expectOAuthError(await token('{"grant_type":"client_credentials"}'), 400, 'invalid_request');
    expectOAuthError(await token(''), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the body is 1 MB', async () => {
    const response = await token(`grant_type=client_credentials&padding=${'a'.repeat(1024 * 1024)}`);
    expectOAuthError(response, 413, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should fail because a parameter is longer than any valid value', async () => {
    const requests: [string, Record<string, string>, string][] = [
      ['long parameter name', { grant_type: 'client_credentials', [`x${'y'.repeat(200)}`]: '1' }, demoBasic],
      ['long parameter value', { grant_type: 'client_credentials', extension: 'v'.repeat(9000) }, demoBasic],
      ['long grant_type', { grant_type: `urn:${'g'.repeat(300)}` }, demoBasic],
      ['long client_id', { grant_type: 'client_credentials' }, basicAuth('c'.repeat(300), 'secret')],
      ['long client_secret', { grant_type: 'client_credentials' }, basicAuth(DEMO_CLIENT.id, 's'.repeat(2000))],
    ];
    for (const [label, body, authorization] of requests) {
      const response = await token(body, authorization);
      expect([label, response.status]).toEqual([label, 400]);
      expectOAuthError(response, 400, 'invalid_request');
    }
    await expectGoodRequestWorks();
  });

  it('case=should fail because the token to introspect or revoke is longer than any token', async () => {
    for (const endpoint of ['introspect', 'revoke']) {
      const response = await postForm(`${demo}/oauth2/${endpoint}`, { token: 't'.repeat(9000) }, demoBasic);
      expect([endpoint, response.status]).toEqual([endpoint, 400]);
      expectOAuthError(response, 400, 'invalid_request');
    }
    await expectGoodRequestWorks();
  });
});

describe('tenant boundary', () => {
  it('case=should fail because the tenant is unknown (404 problem+json)', async () => {
    const unknown = env.platform.issuer('no-such-tenant');
    expectProblem(await postForm(`${unknown}/oauth2/token`, { grant_type: 'client_credentials' }, demoBasic), 404, 'Not Found');
    expectProblem(await postForm(`${unknown}/oauth2/introspect`, { token: 'x' }, demoBasic), 404, 'Not Found');
    expectProblem(await postForm(`${unknown}/oauth2/revoke`, { token: 'x' }, demoBasic), 404, 'Not Found');
    expectProblem(await http(`${unknown}/jwks`), 404, 'Not Found');
    expectProblem(await http(`${unknown}/.well-known/openid-configuration`), 404, 'Not Found');
    expectProblem(await http(`${unknown}/.well-known/oauth-authorization-server`), 404, 'Not Found');
    // Tenant ids are lowercase slugs: the same id in capitals is another, unknown tenant.
    expectProblem(await http(`${env.platform.issuer('DEMO')}/jwks`), 404, 'Not Found');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the tenant id is longer than any tenant id (404 problem+json)', async () => {
    const longTenant = env.platform.issuer('t'.repeat(300));
    expectProblem(await postForm(`${longTenant}/oauth2/token`, { grant_type: 'client_credentials' }, demoBasic), 404, 'Not Found');
    expectProblem(await http(`${longTenant}/jwks`), 404, 'Not Found');
    await expectGoodRequestWorks();
  });

  it('case=should fail because the tenant segment is not valid percent-encoding', async () => {
    expectOAuthError(await postForm(`${env.platform.url}/t/%E0%A4%A/oauth2/token`, { grant_type: 'client_credentials' }, demoBasic), 400, 'invalid_request');
    await expectGoodRequestWorks();
  });

  it('case=should say inactive because a token of tenant demo is introspected at tenant other', async () => {
    const demoToken = (await token({ grant_type: 'client_credentials', scope: 'devices:read' })).json as { access_token: string };
    const atOther = await postForm(`${other}/oauth2/introspect`, { token: demoToken.access_token }, otherBasic);
    expect(atOther.status).toBe(200);
    expect(atOther.text).toBe('{"active":false}');
    // Still active where it was issued.
    const atDemo = await postForm(`${demo}/oauth2/introspect`, { token: demoToken.access_token }, demoBasic);
    expect(atDemo.json).toMatchObject({ active: true, tenant: 'demo', iss: demo });
  });

  it('case=should say inactive because a token of tenant other is introspected at tenant demo', async () => {
    const otherToken = (await postForm(`${other}/oauth2/token`, { grant_type: 'client_credentials' }, otherBasic)).json as { access_token: string };
    const atDemo = await postForm(`${demo}/oauth2/introspect`, { token: otherToken.access_token }, demoBasic);
    expect(atDemo.text).toBe('{"active":false}');
  });

  it("case=should not publish tenant demo's signing key in tenant other's JWKS", async () => {
    const demoToken = (await token({ grant_type: 'client_credentials' })).json as { access_token: string };
    const { kid } = decodeProtectedHeader(demoToken.access_token);
    const demoKeys = ((await http(`${demo}/jwks`)).json as { keys: { kid: string; x: string; y: string }[] }).keys;
    const otherKeys = ((await http(`${other}/jwks`)).json as { keys: { kid: string; x: string; y: string }[] }).keys;
    expect(demoKeys.map((k) => k.kid)).toContain(kid);
    expect(otherKeys.length).toBeGreaterThan(0);
    expect(otherKeys.map((k) => k.kid)).not.toContain(kid);
    // Not under another kid either: no key material is shared between the tenants.
    const material = new Set(demoKeys.map((k) => `${k.x}.${k.y}`));
    expect(otherKeys.filter((k) => material.has(`${k.x}.${k.y}`))).toEqual([]);
  });

  it("case=should fail because tenant demo's client is unknown at tenant other", async () => {
    expectOAuthError(await postForm(`${other}/oauth2/token`, { grant_type: 'client_credentials' }, demoBasic), 401, 'invalid_client');
    expectOAuthError(await postForm(`${demo}/oauth2/token`, { grant_type: 'client_credentials' }, otherBasic), 401, 'invalid_client');
  });

  it("case=should not revoke tenant demo's token when it is revoked at tenant other", async () => {
    const demoToken = (await token({ grant_type: 'client_credentials' })).json as { access_token: string };
    const revoked = await postForm(`${other}/oauth2/revoke`, { token: demoToken.access_token }, otherBasic);
    expect(revoked.status).toBe(200);
    const atDemo = await postForm(`${demo}/oauth2/introspect`, { token: demoToken.access_token }, demoBasic);
    expect(atDemo.json).toMatchObject({ active: true, tenant: 'demo' });
  });
});

describe('no state change', () => {
  it('case=should have written nothing for any refused request', async () => {
    expect(await tokenServiceState()).toBe(stateBefore);
    await expectGoodRequestWorks();
  });
});
