// A tenant replaces and extends its policy through the admin API (issue #6, ADR 0022), end to end
// through the HTTP edge: the status, a compiled bundle of its own (libs/policy/fixtures/maintenance:
// "anyone may read devices, nobody may do anything else"), a broken bundle that is refused while the
// active policy keeps serving, a data merge patch, and the default again — each change deciding the
// very next request, without a restart. Decisions are observed through the AuthZEN API (demo-service
// has `access:evaluate`) and through an admin route the guard decides (bulk provisioning).
//
// Tokens are all issued first: the maintenance policy has no `token.scope` rule, so while it is active
// the token service may issue no scope (which is that policy's business, not this test's).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearerJson } from './support/delegation.js';
import { devTenants, tenantsYaml } from './support/device.js';
import { clientCredentialsToken } from './support/oauth.js';
import { DEMO_CLIENT, type E2eEnvironment, http, startE2eEnvironment, writeTenantsFile } from './support/platform.js';
import { ok, problem } from './support/problems.js';

const MAINTENANCE_BUNDLE = readFileSync(join(import.meta.dirname, '..', '..', 'libs', 'policy', 'fixtures', 'maintenance.tar.gz'));
const run = randomBytes(3).toString('hex');

interface PolicyStatus {
  tenant: string;
  policyVersion: string;
  bundle: { source: string; origin: string; version: number; digest: string; activatedBy: { type: string; id: string } | null };
  data: { version: number };
  lastRejected: { kind: string; error: string; actor: { type: string; id: string } } | null;
}
interface Decision {
  decision: boolean;
  context?: { reason_admin?: { en: string } };
}

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
/** demo-service (role admin) with every scope this test needs. */
let admin: string;
/** demo-service with `policy:read` but not `policy:write`. */
let reader: string;
/** demo-service of the tenant `other`, with policy:read and policy:write there. */
let foreign: string;

beforeAll(async () => {
  // The development tenants file, and a second tenant `other` with the same clients and no devices.
  const tenants = devTenants();
  const demo = tenants.tenants[0]!;
  tenants.tenants.push({ ...structuredClone(demo), id: 'other', displayName: 'Other fleet', devices: [] });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  issuer = env.platform.issuer('demo');
  [admin, reader, foreign] = await Promise.all([
    clientCredentialsToken(issuer, DEMO_CLIENT, 'policy:read policy:write access:evaluate devices:read devices:write'),
    clientCredentialsToken(issuer, DEMO_CLIENT, 'policy:read access:evaluate'),
    clientCredentialsToken(env.platform.issuer('other'), DEMO_CLIENT, 'policy:read policy:write'),
  ]);
}, 180_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const policyUrl = (path = '') => `${issuer}/admin/v1/policy${path}`;

const getStatus = async (token = admin) => ok<PolicyStatus>(await bearerJson('GET', policyUrl(), token));

const putBundle = (bytes: Buffer, type = 'application/gzip', token = admin) =>
  http(policyUrl('/bundle'), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: new Uint8Array(bytes) });

const patchData = (patch: unknown, token = admin) =>
  http(policyUrl('/data'), { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(patch) });

/** Asks the tenant's policy through AuthZEN: may this client do `action` on every device / the tenant? */
async function decide(clientId: string, action: string): Promise<{ decision: boolean; reason: string | undefined }> {
  const resource = action === 'devices.bulk' ? { type: 'tenant', id: 'demo' } : { type: 'device', id: '*' };
  const answer = ok<Decision>(await bearerJson('POST', `${issuer}/access/v1/evaluation`, admin, { subject: { type: 'client', id: clientId }, action: { name: action }, resource }));
  return { decision: answer.decision, reason: answer.context?.reason_admin?.en };
}

/** Bulk provisioning of one device, decided by the guard's policy step (`devices.bulk` on the tenant). */
const bulk = (serial: string) => bearerJson('POST', `${issuer}/admin/v1/devices/bulk`, admin, [{ serial, type: 'sensor' }]);

const MAINTENANCE_MESSAGE = 'maintenance: the fleet is read-only until the upgrade is done';

describe('a tenant’s policy through the admin API', () => {
  let defaultVersion: string;
  let maintenanceVersion: string;

  it('starts with the built-in default policy', async () => {
    const status = await getStatus(reader);
    expect(status).toMatchObject({ tenant: 'demo', bundle: { source: 'default', origin: 'built-in', version: 0, activatedBy: null }, data: { version: 0 }, lastRejected: null });
    expect(status.policyVersion).toMatch(/^b0\.d0@[0-9a-f]{8}\.[0-9a-f]{8}$/);
    defaultVersion = status.policyVersion;
    // demo-service is admin: it may provision; demo-web has no role: it may not read the fleet.
    expect((await decide('demo-service', 'devices.bulk')).decision).toBe(true);
    expect((await decide('demo-web', 'devices.read')).decision).toBe(false);
  });

  it('activates an uploaded compiled bundle (raw tar.gz): the next decisions are its own, without a restart', async () => {
    const activated = ok<PolicyStatus>(await putBundle(MAINTENANCE_BUNDLE));
    expect(activated).toMatchObject({ bundle: { source: 'tenant', origin: 'admin-api', version: 1, activatedBy: { type: 'client', id: 'demo-service' } } });
    expect(activated.policyVersion).toMatch(/^b1\.d0@/);
    expect(activated.policyVersion).not.toBe(defaultVersion);
    maintenanceVersion = activated.policyVersion;
    expect((await getStatus()).policyVersion).toBe(maintenanceVersion);

    expect(await decide('demo-service', 'devices.bulk')).toEqual({ decision: false, reason: expect.stringContaining(MAINTENANCE_MESSAGE) });
    expect(await decide('demo-web', 'devices.read')).toEqual({ decision: true, reason: undefined });
    // The guard of the admin API asks the same policy.
    const refused = problem(await bulk(`pa-refused-${run}`), 403);
    expect(refused.reasons).toEqual([MAINTENANCE_MESSAGE]);
  });

  it('refuses a broken bundle with a 422 that says why, and the active policy keeps serving', async () => {
    const garbage = problem(await putBundle(randomBytes(2048), 'application/octet-stream'), 422);
    expect(garbage.detail).toMatch(/active policy keeps serving: the bundle is not a gzip archive/);

    const status = await getStatus();
    expect(status.policyVersion).toBe(maintenanceVersion);
    expect(status.bundle.version).toBe(1);
    expect(status.lastRejected).toMatchObject({ kind: 'bundle', actor: { type: 'client', id: 'demo-service' }, error: expect.stringContaining('not a gzip archive') });
    expect(await decide('demo-service', 'devices.bulk')).toEqual({ decision: false, reason: expect.stringContaining(MAINTENANCE_MESSAGE) });
  });

  it('takes the bundle as base64 in JSON too, with a data overlay of its own', async () => {
    const activated = ok<PolicyStatus>(
      await bearerJson('PUT', policyUrl('/bundle'), admin, { bundle: MAINTENANCE_BUNDLE.toString('base64'), data: { maintenance: { message: 'back at noon' } }, reason: 'maintenance window' }),
    );
    expect(activated).toMatchObject({ bundle: { version: 2, origin: 'admin-api' }, data: { version: 1 } });
    expect(await decide('demo-service', 'devices.bulk')).toEqual({ decision: false, reason: expect.stringContaining('maintenance: back at noon') });
  });

  it('goes back to the default policy (and, asked to, its default data)', async () => {
    const reset = ok<PolicyStatus>(await bearerJson('POST', policyUrl('/reset'), admin, { reason: 'maintenance over', clearData: true }));
    expect(reset).toMatchObject({ bundle: { source: 'default', origin: 'built-in', version: 3 }, data: { version: 2 } });
    expect((await getStatus()).policyVersion).toBe(reset.policyVersion);
    expect((await decide('demo-service', 'devices.bulk')).decision).toBe(true);
    expect((await decide('demo-web', 'devices.read')).decision).toBe(false);
    expect(ok<{ summary: { created: number } }>(await bulk(`pa-created-${run}`)).summary.created).toBe(1);
  });

  it('changes the data by a JSON merge patch: a role bound to a client takes effect at once, and null removes it', async () => {
    const bound = ok<PolicyStatus>(await patchData({ bindings: { client: { 'demo-web': { roles: ['viewer'] } } } }));
    expect(bound).toMatchObject({ bundle: { source: 'default', version: 3 }, data: { version: 3 } });
    expect(await decide('demo-web', 'devices.read')).toEqual({ decision: true, reason: undefined });

    ok<PolicyStatus>(await patchData({ bindings: { client: { 'demo-web': null } } }));
    expect((await decide('demo-web', 'devices.read')).decision).toBe(false);
  });

  it('refuses data the policy reports as malformed, keeping the active data', async () => {
    const before = await getStatus();
    const refused = problem(await patchData({ roles: { viewer: { permissions: 'everything' } } }), 422);
    expect(refused.detail.length).toBeGreaterThan(10);
    const after = await getStatus();
    expect(after.policyVersion).toBe(before.policyVersion);
    expect(after.lastRejected).toMatchObject({ kind: 'data' });
    expect((await decide('demo-service', 'devices.bulk')).decision).toBe(true);
  });
});

describe('who may administer the policy', () => {
  it('needs policy:write for every change (403 insufficient_scope), and changes nothing', async () => {
    const before = await getStatus(reader);
    for (const attempt of [putBundle(MAINTENANCE_BUNDLE, 'application/gzip', reader), patchData({ bindings: {} }, reader), bearerJson('POST', policyUrl('/reset'), reader)]) {
      const response = await attempt;
      problem(response, 403);
      expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="policy:write"/);
    }
    expect((await getStatus(reader)).policyVersion).toBe(before.policyVersion);
  });

  it('refuses another tenant’s token and no token at all (401)', async () => {
    for (const response of [await bearerJson('GET', policyUrl(), foreign), await putBundle(MAINTENANCE_BUNDLE, 'application/gzip', foreign), await bearerJson('GET', policyUrl(), null)]) {
      problem(response, 401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    }
    expect((await getStatus()).bundle.source).toBe('default');
  });
});
