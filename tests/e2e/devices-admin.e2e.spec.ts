// The device admin API, the claim API and the claim page end to end (issue #4): a service token from
// client_credentials drives /t/{t}/admin/v1/devices… (create, list, filter, paginate, update,
// lifecycle, credentials, audit, bulk JSON and CSV, claim codes); Adam claims a device with his own
// token (authorization-code flow) and through the page. Cross-tenant, bad-input and scope cases prove
// that refusals are 4xx problem+json and change nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { devTenants, headingOf, locationOf, tenantsYaml } from './support/device.js';
import { formOf, HttpBrowser } from './support/http-browser.js';
import { clientCredentialsToken, userAccessToken } from './support/oauth.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';
import { type Problem } from './support/problems.js';

const ADAM = { username: 'adam', password: 'adam-password' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
let otherIssuer: string;
let origin: string;
let serviceToken: string;
const run = randomBytes(3).toString('hex');

interface Device {
  id: string;
  serial: string;
  type: string;
  model: string | null;
  status: string;
  ownerId: string | null;
  attributes: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface BulkReport {
  summary: { created: number; skipped: number; rejected: number };
  rows: Array<{ row: number; outcome: 'created' | 'skipped' | 'rejected'; serial: string | null; deviceId?: string; reason?: string; secrets?: Record<string, string> }>;
}

beforeAll(async () => {
  // The development tenants plus a second tenant `other` with the same clients and users, for the
  // cross-tenant cases.
  const tenants = devTenants();
  tenants.tenants.push({ ...structuredClone(tenants.tenants[0]!), id: 'other', displayName: 'Other fleet', devices: [] });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  issuer = env.platform.issuer('demo');
  otherIssuer = env.platform.issuer('other');
  origin = new URL(issuer).origin;
  serviceToken = await clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read devices:write');
}, 120_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const admin = (path = '') => `${issuer}/admin/v1/devices${path}`;

function api(method: string, url: string, options: { token?: string | null; json?: unknown; body?: string; type?: string; accept?: string } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? serviceToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.accept) headers.accept = options.accept;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = options.type ?? 'application/json';
  } else if (options.type) headers['content-type'] = options.type;
  return http(url, { method, headers, ...(body !== undefined ? { body } : {}) });
}

function expectProblem(result: HttpResult, status: number): Problem {
  expect({ status: result.status, body: result.text.slice(0, 300) }).toEqual({ status, body: expect.any(String) });
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = result.json as Problem;
  expect(problem).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  return problem;
}

function ok<T>(result: HttpResult, status = 200): T {
  expect({ status: result.status, body: result.text.slice(0, 500) }).toEqual({ status, body: expect.any(String) });
  return result.json as T;
}

function publicJwk(): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...publicKey.export({ format: 'jwk' }), alg: 'ES256' };
}

const thumbprint = () => createHash('sha256').update(randomBytes(32)).digest('base64url');

async function create(device: Record<string, unknown>) {
  return ok<{ device: Device; credentials: Array<{ id: string; kind: string; status: string }>; secrets?: Record<string, string>; claimCode?: { code: string; qrPayload: string } }>(await api('POST', admin(), { json: device }), 201);
}

/** Every device of the tenant (the test creates far fewer than 500). */
async function allDevices(token = serviceToken, tenantIssuer = issuer): Promise<Device[]> {
  return ok<Page<Device>>(await api('GET', `${tenantIssuer}/admin/v1/devices?limit=500`, { token })).items;
}

describe('the device admin API', () => {
  let lock: Device;

  it('creates a device with a key and a claim code: 201, Location, the code shown once', async () => {
    const created = await create({ serial: `lock-${run}`, type: 'bike-lock', model: 'Latch One', attributes: { site: 'berlin', floor: 3 }, credentials: [{ kind: 'jwk', jwk: publicJwk() }], claimCode: true });
    lock = created.device;
    expect(lock).toMatchObject({ id: expect.stringMatching(UUID), serial: `lock-${run}`, status: 'provisioned', ownerId: null, attributes: { site: 'berlin', floor: 3 } });
    expect(created.credentials).toEqual([expect.objectContaining({ kind: 'jwk', status: 'active' })]);
    expect(created.claimCode?.qrPayload).toBe(`${issuer}/claim?code=${created.claimCode?.code}`);
    const fetched = ok<{ device: Device; credentials: unknown[] }>(await api('GET', admin(`/${lock.id}`)));
    expect(fetched.device).toEqual(lock);
    expect(fetched.credentials).toHaveLength(1);
  });

  it('answers 201 with the Location of the new device and refuses a taken serial with 409', async () => {
    const response = await api('POST', admin(), { json: { serial: `sensor-${run}`, type: 'sensor', credentials: [{ kind: 'secret' }] } });
    const created = ok<{ device: Device; credentials: Array<{ id: string }>; secrets?: Record<string, string> }>(response, 201);
    expect(response.headers.get('location')).toBe(admin(`/${created.device.id}`));
    expect(Object.keys(created.secrets ?? {})).toEqual([created.credentials[0]!.id]);
    expectProblem(await api('POST', admin(), { json: { serial: `sensor-${run}`, type: 'sensor' } }), 409);
  });

  it('lists with filters (status, type, owner, attributes) and pages with Link: rel="next"', async () => {
    for (let i = 0; i < 3; i++) await create({ serial: `page-${run}-${i}`, type: 'sensor', attributes: { batch: run, n: i, indoor: i % 2 === 0 } });
    const filtered = ok<Page<Device>>(await api('GET', admin(`?type=bike-lock&status=provisioned&owner=none&attr.site=berlin&attr.floor=3`)));
    expect(filtered.items.map((d) => d.serial)).toEqual([`lock-${run}`]);
    expect(ok<Page<Device>>(await api('GET', admin(`?attr.batch=${run}&attr.indoor=true`))).items.map((d) => d.serial).sort()).toEqual([`page-${run}-0`, `page-${run}-2`]);
    expect(ok<Page<Device>>(await api('GET', admin(`?attr.batch=${run}&attr.n=1`))).items.map((d) => d.serial)).toEqual([`page-${run}-1`]);

    const seen: string[] = [];
    let next: string | undefined = admin(`?attr.batch=${run}&limit=2`);
    for (let pages = 0; next && pages < 5; pages++) {
      const result = await api('GET', next);
      seen.push(...ok<Page<Device>>(result).items.map((d) => d.serial));
      next = /^<([^>]+)>; rel="next"$/.exec(result.headers.get('link') ?? '')?.[1];
    }
    // Newest first, each once.
    expect(seen).toEqual([`page-${run}-2`, `page-${run}-1`, `page-${run}-0`]);
  });

  it('patches descriptive fields and merges attributes (RFC 7396: null removes)', async () => {
    const patched = ok<{ device: Device }>(await api('PATCH', admin(`/${lock.id}`), { type: 'application/merge-patch+json', json: { model: 'Latch Two', attributes: { floor: null, colour: 'red' }, reason: 'refit' } }));
    expect(patched.device).toMatchObject({ model: 'Latch Two', attributes: { site: 'berlin', colour: 'red' } });
    expect(patched.device.attributes).not.toHaveProperty('floor');
  });

  it('walks the lifecycle and refuses an illegal transition with 409 { from, action }', async () => {
    const step = async (action: string, status: string) => expect(ok<{ device: Device }>(await api('POST', admin(`/${lock.id}/${action}`), { json: { reason: `e2e ${action}` } })).device.status).toBe(status);
    await step('activate', 'active');
    const illegal = expectProblem(await api('POST', admin(`/${lock.id}/activate`)), 409);
    expect(illegal.details).toMatchObject({ from: 'active', action: 'activate' });
    await step('suspend', 'suspended');
    await step('reactivate', 'active');
  });

  it('adds and revokes credentials', async () => {
    const added = ok<{ credential: { id: string; kind: string; thumbprint: string } }>(await api('POST', admin(`/${lock.id}/credentials`), { json: { kind: 'x509', thumbprint: thumbprint() } }), 201);
    expect(added.credential).toMatchObject({ kind: 'x509' });
    const revoked = ok<{ credential: { status: string } }>(await api('POST', admin(`/${lock.id}/credentials/${added.credential.id}/revoke`), { json: { reason: 'rotated' } }));
    expect(revoked.credential.status).toBe('revoked');
    expectProblem(await api('POST', admin(`/${lock.id}/credentials`), { json: { kind: 'jwk', jwk: { ...publicJwk(), d: 'private' } } }), 422);
  });

  it('keeps an audit trail of who did what, paged', async () => {
    const first = await api('GET', admin(`/${lock.id}/audit?limit=2`));
    const page = ok<Page<{ event: string; actor: { type: string; id: string } }>>(first);
    expect(page.items).toHaveLength(2);
    expect(page.items[0]?.actor).toEqual({ type: 'client', id: 'demo-service' });
    expect(first.headers.get('link')).toMatch(/rel="next"$/);
    const all = ok<Page<{ event: string }>>(await api('GET', admin(`/${lock.id}/audit?limit=100`))).items.map((record) => record.event);
    expect(all.length).toBeGreaterThanOrEqual(7);
  });

  it('decommissions for good', async () => {
    const other = await create({ serial: `retire-${run}`, type: 'sensor' });
    expect(ok<{ device: Device }>(await api('POST', admin(`/${other.device.id}/decommission`))).device.status).toBe('decommissioned');
    expectProblem(await api('POST', admin(`/${other.device.id}/reactivate`)), 409);
    expectProblem(await api('PATCH', admin(`/${other.device.id}`), { json: { model: 'x' } }), 409);
  });
});

describe('bulk provisioning', () => {
  it('takes JSON rows with a per-row report: created, skipped (serial exists), rejected', async () => {
    const rows = [
      { serial: `bulk-${run}-0`, type: 'sensor', attributes: { bulk: run } },
      { serial: `lock-${run}`, type: 'bike-lock' },
      { serial: `bulk-${run}-2`, type: 'Not A Type' },
      { serial: `bulk-${run}-3`, type: 'sensor', credentials: [{ kind: 'secret' }], claimCode: true },
    ];
    const report = ok<BulkReport>(await api('POST', admin('/bulk'), { json: { devices: rows } }));
    expect(report.summary).toEqual({ created: 2, skipped: 1, rejected: 1 });
    expect(report.rows.map((r) => [r.row, r.outcome])).toEqual([
      [0, 'created'],
      [1, 'skipped'],
      [2, 'rejected'],
      [3, 'created'],
    ]);
    expect(Object.values(report.rows[3]?.secrets ?? {})).toHaveLength(1);
  });

  it('takes CSV with mixed rows; a row it cannot read is rejected with its number; a retry only skips', async () => {
    const csv = [
      'serial,type,model,activate,secret,attr.site,attr.floor',
      `csv-${run}-0,sensor,S1,yes,,hamburg,2`,
      `csv-${run}-1,sensor,S1,perhaps,,hamburg,2`,
      `bulk-${run}-0,sensor,,,,,`,
      `"csv-${run}-3",sensor,"Model, quoted",no,yes,hamburg,`,
      `csv-${run}-4,sensor`,
    ].join('\r\n');
    const report = ok<BulkReport>(await api('POST', admin('/bulk'), { body: csv, type: 'text/csv' }));
    expect(report.rows.map((r) => [r.row, r.outcome])).toEqual([
      [0, 'created'],
      [1, 'rejected'],
      [2, 'skipped'],
      [3, 'created'],
      [4, 'rejected'],
    ]);
    expect(report.rows[1]?.reason).toMatch(/activate/);
    const created = ok<{ device: Device }>(await api('GET', admin(`/${report.rows[0]?.deviceId}`))).device;
    expect(created).toMatchObject({ status: 'active', model: 'S1', attributes: { site: 'hamburg', floor: 2 } });

    const retry = await api('POST', admin('/bulk'), { body: csv, type: 'text/csv', accept: 'text/csv' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('content-type')).toMatch(/^text\/csv/);
    const outcomes = retry.text.trim().split('\r\n').slice(1).map((line) => line.split(',')[1]);
    expect(outcomes).toEqual(['skipped', 'rejected', 'skipped', 'skipped', 'rejected']);
  });

  it('refuses more than 10,000 rows, and changes nothing', async () => {
    const before = (await allDevices()).length;
    const rows = Array.from({ length: 10_001 }, (_, i) => `many-${run}-${i},sensor`).join('\n');
    const problem = expectProblem(await api('POST', admin('/bulk'), { body: `serial,type\n${rows}\n`, type: 'text/csv' }), 413);
    expect(problem.detail).toContain('10000');
    expect((await allDevices()).length).toBe(before);
  });
});

describe('claiming a device', () => {
  it('a person claims an unowned device with its code through the API; a wrong code says nothing more', async () => {
    const device = (await create({ serial: `claim-${run}`, type: 'bike-lock' })).device;
    const { claimCode } = ok<{ claimCode: { code: string } }>(await api('POST', admin(`/${device.id}/claim-code`)), 201);
    const adamToken = await userAccessToken(issuer, ADAM, 'openid devices:claim');
    const wrong = expectProblem(await api('POST', `${issuer}/v1/devices/claim`, { token: adamToken, json: { code: 'AAAA-BBBB-CCCC-DDDD' } }), 400);
    expect(wrong.detail).toBe('the claim code is not valid');
    // An app's token cannot claim for anyone.
    expectProblem(await api('POST', `${issuer}/v1/devices/claim`, { json: { code: claimCode.code } }), 403);
    const claimed = ok<{ device: Device }>(await api('POST', `${issuer}/v1/devices/claim`, { token: adamToken, json: { code: claimCode.code } }));
    expect(claimed.device.ownerId).toBe(decodeJwt(adamToken).sub);
    // Spent: the same code again is just "not valid".
    expect(expectProblem(await api('POST', `${issuer}/v1/devices/claim`, { token: adamToken, json: { code: claimCode.code } }), 400).detail).toBe('the claim code is not valid');
    expect(ok<Page<Device>>(await api('GET', admin(`?owner=${decodeJwt(adamToken).sub}`))).items.map((d) => d.serial)).toContain(`claim-${run}`);
  });

  it('a person claims through the page the QR code opens: sign in, then Add device', async () => {
    const { claimCode } = await create({ serial: `qr-${run}`, type: 'sensor', claimCode: true });
    const browser = new HttpBrowser(origin);
    let page = await browser.get(claimCode!.qrPayload);
    expect(headingOf(page.text)).toBe('Sign in');
    const login = formOf(page.text);
    page = await browser.get(locationOf(await browser.post(login.action, { ...login.fields, ...ADAM }), origin));
    expect(headingOf(page.text)).toBe('Add a device');
    const form = formOf(page.text);
    const done = await browser.post(form.action, { ...form.fields, code: claimCode!.code });
    expect(headingOf(done.text)).toBe('Device added');
    expect(done.text).toContain(`qr-${run}`);
  });
});

describe('tokens, tenants and scopes', () => {
  it("refuses another tenant's token (401) and does not find another tenant's device (404)", async () => {
    const otherToken = await clientCredentialsToken(otherIssuer, DEMO_CLIENT, 'devices:read devices:write');
    const refused = expectProblem(await api('GET', admin(), { token: otherToken }), 401);
    expect(refused.detail).toBeTruthy();
    const demoDevice = (await allDevices())[0]!;
    expectProblem(await api('GET', `${otherIssuer}/admin/v1/devices/${demoDevice.id}`, { token: otherToken }), 404);
    expectProblem(await api('POST', `${otherIssuer}/admin/v1/devices/${demoDevice.id}/suspend`, { token: otherToken }), 404);
    expect((await allDevices(otherToken, otherIssuer)).map((d) => d.id)).not.toContain(demoDevice.id);
  });

  it('asks for a token (401 + challenge) and names a missing scope (403 insufficient_scope)', async () => {
    const none = await api('GET', admin(), { token: null });
    expectProblem(none, 401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="${issuer}"`);
    const readOnly = await clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read');
    const before = (await allDevices()).length;
    const refused = await api('POST', admin(), { token: readOnly, json: { serial: `nope-${run}`, type: 'sensor' } });
    expectProblem(refused, 403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="devices:write"/);
    expect((await allDevices()).length).toBe(before);
  });

  it('refuses a revoked token at once', async () => {
    const token = await clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read');
    expect((await api('GET', admin('?limit=1'), { token })).status).toBe(200);
    expect((await postForm(`${issuer}/oauth2/revoke`, { token }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret))).status).toBe(200);
    const deadline = Date.now() + 2000;
    let status = (await api('GET', admin('?limit=1'), { token })).status;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await api('GET', admin('?limit=1'), { token })).status;
    }
    expect(status).toBe(401);
  });
});

describe('bad input is a 4xx problem and changes nothing', () => {
  it.each([
    ['a non-UUID id', 'GET', '/not-a-uuid', {}, 404],
    ['a non-UUID id in an action', 'POST', '/123/suspend', {}, 404],
    ['malformed JSON', 'POST', '', { body: '{"serial": "x",', type: 'application/json' }, 400],
    ['a body that is not JSON', 'POST', '', { body: 'serial=x', type: 'text/plain' }, 415],
    ['an unknown status filter', 'GET', '?status=broken', {}, 400],
    ['an unknown query parameter', 'GET', '?colour=red', {}, 400],
    ['a limit out of range', 'GET', '?limit=501', {}, 400],
    ['an unknown field', 'POST', '', { json: { serial: 'x-unknown', type: 'sensor', colour: 'red' } }, 422],
    ['an invalid serial', 'POST', '', { json: { serial: ' padded ', type: 'sensor' } }, 422],
    ['status in a patch', 'PATCH', '/00000000-0000-4000-8000-000000000000', { json: { status: 'active' } }, 422],
    ['an unknown CSV column', 'POST', '/bulk', { body: 'serial,typo\nx,y\n', type: 'text/csv' }, 422],
  ] as const)('%s', async (_name, method, path, options, status) => {
    const before = (await allDevices()).length;
    const problem = expectProblem(await api(method, admin(path), options), status);
    if (status === 400 || status === 422) expect(problem.detail.length).toBeGreaterThan(10);
    expect((await allDevices()).length).toBe(before);
  });

  it('lists the issues of an invalid body in errors', async () => {
    const problem = expectProblem(await api('POST', admin(), { json: { type: 'Bad Type', activate: 'yes' } }), 422);
    expect(problem.errors?.map((issue) => issue.pointer).sort()).toEqual(['/activate', '/serial', '/type']);
  });
});

describe('the OpenAPI document', () => {
  it('is served per tenant and documents the operations used above', async () => {
    const document = ok<{ openapi: string; servers: Array<{ url: string }>; paths: Record<string, unknown> }>(await http(`${issuer}/admin/v1/openapi.json`));
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: issuer }]);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/admin/v1/devices', '/admin/v1/devices/{id}', '/admin/v1/devices/bulk', '/v1/devices/claim']));
  });
});

describe('when the device registry is down', () => {
  it('a bulk upload answers 503 saying which rows were done, and the retry after it is back is safe', async () => {
    const rows = Array.from({ length: 3 }, (_, i) => ({ serial: `outage-${run}-${i}`, type: 'sensor' }));
    await env.platform.stopService('device-registry');
    try {
      const problem = expectProblem(await api('POST', admin('/bulk'), { json: rows }), 503) as Problem & { summary: Record<string, number>; rows: unknown[] };
      expect(problem.summary).toEqual({ created: 0, skipped: 0, rejected: 0, unconfirmed: 3 });
      expect(problem.rows).toEqual([]);
    } finally {
      env.platform.startService('device-registry');
    }
    // Back: the whole upload again (the token guard does not need the registry, the upload does).
    const deadline = Date.now() + 20_000;
    let retry = await api('POST', admin('/bulk'), { json: rows });
    while (retry.status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      retry = await api('POST', admin('/bulk'), { json: rows });
    }
    expect(ok<BulkReport>(retry).summary).toEqual({ created: 3, skipped: 0, rejected: 0 });
  }, 40_000);
});
