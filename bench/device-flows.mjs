// The "devices" part of `npm run bench` (Latchkey only), through the admin API and the token endpoint
// exactly as an operator's tooling and a device would use them:
//   1. device tokens per second: client_credentials with private_key_jwt (RFC 7523), client_id = the
//      device id, each request with a fresh assertion (jti is single use) signed by the device's own key;
//   2. bulk provisioning of many devices (default 100,000) in uploads of 10,000 rows, with the device
//      registry's resident memory sampled during the import.
// Assertions are signed before the timed phase, so the load generator's signing is not in the figures.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const CLIENT = { id: 'demo-service', secret: 'demo-service-secret' };
const DEVICE_TYPE = 'bike-lock';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const UPLOAD_ROWS = 10_000;

class BenchStepFailed extends Error {
  constructor(step, message) {
    super(`device flows, ${step}: ${message} (did the admin API or device authentication change? see docs/adr/0017, 0018 and bench/device-flows.mjs)`);
  }
}

async function json(url, init, step) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) throw new BenchStepFailed(step, `${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return body;
}

async function adminToken(issuer) {
  const body = await json(
    `${issuer}/oauth2/token`,
    {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=devices%3Aread%20devices%3Awrite',
    },
    'admin token',
  );
  return body.access_token;
}

/** A device with its own P-256 key, registered and active. */
async function provisionDevice(issuer, token, index) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  const created = await json(
    `${issuer}/admin/v1/devices`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serial: `bench-token-${Date.now()}-${index}`, type: DEVICE_TYPE, activate: true, credentials: [{ kind: 'jwk', jwk }] }),
    },
    'create a device',
  );
  return { id: created.device.id, privateKey };
}

function assertionFor(device, audience, now) {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'k1' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: device.id, sub: device.id, aud: audience, iat: now, exp: now + 240, jti: randomUUID() })).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: device.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

function tokenRequestBody(device, audience, now) {
  return new URLSearchParams({ grant_type: 'client_credentials', client_id: device.id, client_assertion_type: ASSERTION_TYPE, client_assertion: assertionFor(device, audience, now) }).toString();
}

/** autocannon with a fresh, pre-signed assertion per request. */
function loadDeviceTokens(url, bodies, { connections, duration }) {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        requests: [
          {
            setupRequest(request) {
              if (next >= bodies.length) throw new Error('ran out of pre-signed assertions');
              return { ...request, body: bodies[next++] };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('error', () => {});
  });
}

/** Samples a process's RSS while `work` runs; returns the work's result and before / peak / after in kB. */
async function sampleRss(readRssKb, work) {
  const before = readRssKb();
  let peak = before ?? 0;
  const timer = setInterval(() => {
    const now = readRssKb();
    if (now !== undefined && now > peak) peak = now;
  }, 200);
  try {
    const result = await work();
    return { result, before, peak: Math.max(peak, readRssKb() ?? 0), after: readRssKb() };
  } finally {
    clearInterval(timer);
  }
}

async function bulkProvision(issuer, token, total, log) {
  const prefix = `bench-bulk-${Date.now()}`;
  const counts = { created: 0, skipped: 0, rejected: 0 };
  const uploads = [];
  for (let first = 0; first < total; first += UPLOAD_ROWS) {
    const rows = [];
    for (let i = first; i < Math.min(total, first + UPLOAD_ROWS); i++) {
      rows.push({ serial: `${prefix}-${i}`, type: DEVICE_TYPE, model: 'Latch One', firmwareVersion: '1.4.2', attributes: { site: `site-${i % 50}`, batch: Math.floor(i / UPLOAD_ROWS) } });
    }
    const started = performance.now();
    const body = await json(
      `${issuer}/admin/v1/devices/bulk`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows) },
      'bulk upload',
    );
    uploads.push(performance.now() - started);
    for (const key of Object.keys(counts)) counts[key] += body.summary[key];
    log(`[bench]   devices uploaded: ${Math.min(total, first + UPLOAD_ROWS)}/${total}`);
  }
  return { counts, uploads };
}

/**
 * Runs both device phases on a running platform; returns rows for the report.
 * `registryRssKb()` reads the device registry's RSS; `cpu` is the bench's CPU accounting.
 */
export async function runDeviceFlows({ issuer, devices = 50, connections = 50, duration = 10, bulkDevices = 100_000, registryRssKb, cpu, log }) {
  const token = await adminToken(issuer);
  const audience = `${issuer}/oauth2/token`;

  log(`[bench] device tokens: provisioning ${devices} devices with their own P-256 keys`);
  const fleet = [];
  for (let i = 0; i < devices; i++) fleet.push(await provisionDevice(issuer, token, i));
  // Each request needs its own assertion: enough for twice the plausible rate, plus the warm-up.
  const needed = Math.max(20_000, Math.ceil(duration * 4000));
  const now = Math.floor(Date.now() / 1000);
  const bodies = Array.from({ length: needed }, (_, i) => tokenRequestBody(fleet[i % fleet.length], audience, now));
  const probe = await json(audience, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bodies.pop() }, 'device token probe');
  const claims = JSON.parse(Buffer.from(probe.access_token.split('.')[1], 'base64url').toString('utf8'));
  if (claims.sub !== fleet[(needed - 1) % fleet.length].id || claims.device_type !== DEVICE_TYPE) throw new BenchStepFailed('device token probe', `unexpected claims ${JSON.stringify(claims)}`);
  log(`[bench] device token probe: 200, sub = the device, device_type ${claims.device_type}, scope "${probe.scope ?? ''}"`);

  log(`[bench] device tokens: warm-up 2 s, then load ${duration} s, ${connections} connections`);
  await loadDeviceTokens(audience, bodies.splice(0, 4000), { connections, duration: 2 });
  const before = cpu.snapshot();
  const result = await loadDeviceTokens(audience, bodies, { connections, duration });
  const spent = cpu.since(before);
  const errors = result.non2xx + result.errors + result.timeouts;

  log(`[bench] bulk provisioning: ${bulkDevices} devices in uploads of ${UPLOAD_ROWS}`);
  const started = performance.now();
  const bulk = await sampleRss(registryRssKb, () => bulkProvision(issuer, token, bulkDevices, log));
  const seconds = (performance.now() - started) / 1000;

  return {
    tokens: {
      perSecond: result['2xx'] / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors,
      errorDetail: `non-2xx ${result.non2xx}, socket errors ${result.errors}, timeouts ${result.timeouts}; status codes ${JSON.stringify(result.statusCodeStats)}`,
      ok: result['2xx'],
      cpu: spent,
    },
    bulk: { devices: bulkDevices, seconds, perSecond: bulkDevices / seconds, counts: bulk.result.counts, uploads: bulk.result.uploads, rssKb: { before: bulk.before, peak: bulk.peak, after: bulk.after } },
  };
}
