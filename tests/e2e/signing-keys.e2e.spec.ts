// Signing-key rotation on demand through the HTTP edge (docs/adr/0010): the admin API's
// `/admin/v1/signing-keys` lists a tenant's keys and rotates them, decided by the tenant's policy
// (`keys.read`, `keys.rotate`: administrators). A rotation publishes the new key in the JWKS at once
// and signs with it from its activation instant; tokens of the old key keep verifying until they
// expire. The token service runs with a 4 s propagation delay (instead of 120 s) so that the test
// sees the activation without waiting two minutes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { bearerJson } from './support/delegation.js';
import { devTenants, tenantsYaml } from './support/device.js';
import { clientCredentialsToken } from './support/oauth.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';
import { ok, problem } from './support/problems.js';

const PROPAGATION_SECONDS = 4;
/** The development tenant's longest token lifetime (300 s) and the default clock-skew margin (5 min). */
const RETIRED_KEY_PUBLISHED_MS = 300_000 + 300_000;
/** A back-office app the policy gives no key administration: role viewer, registered for both key scopes. */
const VIEWER = { id: 'key-viewer', secret: 'key-viewer-secret' };

interface SigningKey {
  kid: string;
  alg: string;
  status: string;
  published: boolean;
  createdAt: string;
  activatesAt: string;
  retiredAt: string | null;
  publishUntil: string | null;
  rotationReason: string | null;
}

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
/** demo-service (role admin) with keys:read and keys:write. */
let admin: string;

beforeAll(async () => {
  const tenants = devTenants();
  tenants.tenants[0]!.clients.push({ clientId: VIEWER.id, secret: VIEWER.secret, grantTypes: ['client_credentials'], scopes: ['keys:read', 'keys:write'], roles: ['viewer'] });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path, serviceEnv: { token: { SIGNING_KEY_PROPAGATION_SECONDS: String(PROPAGATION_SECONDS) } } });
  issuer = env.platform.issuer('demo');
  admin = await clientCredentialsToken(issuer, DEMO_CLIENT, 'keys:read keys:write');
}, 180_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const keysUrl = (path = '') => `${issuer}/admin/v1/signing-keys${path}`;

const listKeys = async (token = admin) => ok<{ keys: SigningKey[] }>(await bearerJson('GET', keysUrl(), token)).keys;
const rotate = (body?: unknown, token: string | null = admin) => bearerJson('POST', keysUrl('/rotate'), token, body);
const jwks = async () => ok<JSONWebKeySet>(await http(`${issuer}/jwks`));
/** A token of demo-service, as any client would get one. */
const serviceToken = () => clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read');
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const verify = async (token: string) => jwtVerify(token, createLocalJWKSet(await jwks()), { issuer, typ: 'at+jwt' });
const introspect = async (token: string) => ok<{ active: boolean }>(await postForm(`${issuer}/oauth2/introspect`, { token }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret)));
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

describe('the signing keys of a tenant through the admin API', () => {
  let oldKid: string;
  let oldToken: string;

  it('lists the one active key, published in the JWKS, with nothing but its public metadata', async () => {
    oldToken = await serviceToken();
    oldKid = kidOf(oldToken);
    const keys = await listKeys();
    expect(keys).toEqual([
      { kid: oldKid, alg: 'ES256', status: 'active', published: true, createdAt: expect.any(String), activatesAt: expect.any(String), retiredAt: null, publishUntil: null, rotationReason: null },
    ]);
    expect((await jwks()).keys.map((key) => key.kid)).toEqual([oldKid]);
  });

  it('rotates: the new key is in the JWKS at once, signs from its activation instant, and the old key’s tokens keep verifying', async () => {
    const rotation = ok<{ kid: string; activatesAt: string }>(await rotate({ reason: 'e2e: suspected compromise' }));
    const activatesAt = Date.parse(rotation.activatesAt);
    expect(rotation.kid).not.toBe(oldKid);
    expect(activatesAt - Date.now()).toBeGreaterThan(0);
    expect(activatesAt - Date.now()).toBeLessThanOrEqual(PROPAGATION_SECONDS * 1000);

    // Published before it signs: every verifier that fetches the JWKS now knows the key in advance.
    expect((await jwks()).keys.map((key) => key.kid).sort()).toEqual([oldKid, rotation.kid].sort());
    const pending = await listKeys();
    expect(pending.map(({ kid, status, published, rotationReason }) => ({ kid, status, published, rotationReason }))).toEqual([
      { kid: rotation.kid, status: 'next', published: true, rotationReason: 'e2e: suspected compromise' },
      { kid: oldKid, status: 'active', published: true, rotationReason: null },
    ]);
    // Asking again while it is pending answers with the pending key: nothing new is created.
    expect(ok(await rotate())).toEqual(rotation);
    const beforeActivation = await serviceToken();
    if (Date.now() < activatesAt - 200) expect(kidOf(beforeActivation)).toBe(oldKid);

    await sleepUntil(activatesAt + 100);
    const newToken = await serviceToken();
    expect(kidOf(newToken)).toBe(rotation.kid);
    await expect(verify(newToken)).resolves.toMatchObject({ protectedHeader: { kid: rotation.kid } });
    // The token signed before the rotation still verifies against the JWKS and is still active.
    await expect(verify(oldToken)).resolves.toMatchObject({ protectedHeader: { kid: oldKid } });
    expect(await introspect(oldToken)).toMatchObject({ active: true });

    const after = await listKeys();
    expect(after.map(({ kid, status, published }) => ({ kid, status, published }))).toEqual([
      { kid: rotation.kid, status: 'active', published: true },
      { kid: oldKid, status: 'retired', published: true },
    ]);
    // Published until a token it signed at the last instant has expired, plus the clock-skew margin.
    expect(after[1]).toMatchObject({ retiredAt: rotation.activatesAt, publishUntil: new Date(activatesAt + RETIRED_KEY_PUBLISHED_MS).toISOString() });
  }, 30_000);

  it('case=should refuse a caller the policy does not allow (403 problem with the policy’s reasons), and rotate nothing', async () => {
    const before = await listKeys();
    const viewer = await clientCredentialsToken(issuer, VIEWER, 'keys:read keys:write');
    for (const [response, action] of [
      [await bearerJson('GET', keysUrl(), viewer), 'keys.read'],
      [await rotate({ reason: 'not mine to do' }, viewer), 'keys.rotate'],
    ] as const) {
      const refused = problem(response, 403);
      expect(refused.reasons).toEqual([`no_permission: no role of the subject permits ${action} on this resource`]);
    }
    expect(await listKeys()).toEqual(before);
  });

  it('case=should refuse a token without keys:write (403 insufficient_scope) or without a token (401)', async () => {
    const reader = await clientCredentialsToken(issuer, DEMO_CLIENT, 'keys:read');
    const refused = await rotate(undefined, reader);
    problem(refused, 403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="keys:write"/);
    for (const response of [await rotate(undefined, null), await http(keysUrl())]) {
      problem(response, 401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    }
  });

  it('case=should answer bad input with a problem+json 4xx, and rotate nothing', async () => {
    const before = await listKeys();
    const invalid = problem(await rotate({ reason: 42 }), 422);
    expect(invalid.errors).toEqual([{ pointer: '/reason', detail: expect.any(String) }]);
    expect(problem(await rotate({ reason: 'x'.repeat(501) }), 422).errors).toEqual([{ pointer: '/reason', detail: expect.any(String) }]);
    expect(problem(await rotate({ because: 'typo' }), 422).errors).toEqual([expect.objectContaining({ detail: expect.stringMatching(/because/) })]);
    const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    problem(await http(keysUrl('/rotate'), { method: 'POST', headers, body: '{"reason":' }), 400);
    problem(await http(keysUrl('/rotate'), { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'rotate please' }), 415);
    expect(await listKeys()).toEqual(before);
  });
});
