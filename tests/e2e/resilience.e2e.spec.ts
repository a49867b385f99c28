// The token service (or the policy service, which decides every token's scopes) goes away while the
// gateway keeps running: clients get a fast, well-formed 503 temporarily_unavailable, readiness says so,
// and the platform heals once the service is back, without restarting the gateway.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment } from './support/platform.js';

let env: E2eEnvironment;
let issuer: string;
let gatewayPid: number | undefined;
const demoBasic = basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret);

beforeAll(async () => {
  env = await startE2eEnvironment();
  issuer = env.platform.issuer('demo');
  gatewayPid = env.platform.processes.get('gateway')?.pid;
});

afterAll(async () => {
  await env?.close();
});

const requestToken = () => postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read' }, demoBasic);

function expectTemporarilyUnavailable(response: HttpResult) {
  expect({ status: response.status, body: response.json }).toEqual({
    status: 503,
    body: { error: 'temporarily_unavailable', error_description: expect.stringMatching(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/) },
  });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
}

/** Polls the token endpoint until it issues a token again; returns how long that took. */
async function waitForTokens(timeoutMs: number): Promise<number> {
  const started = performance.now();
  let last: HttpResult | undefined;
  while (performance.now() - started < timeoutMs) {
    last = await requestToken();
    if (last.status === 200) return performance.now() - started;
    // While the service starts, the only acceptable answer is the 503 of a service being away.
    expectTemporarilyUnavailable(last);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no token within ${timeoutMs} ms; last answer ${last?.status} ${last?.text}`);
}

async function waitUntilTokenServiceIsGone(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await http(`${env.platform.url}/readyz`);
    if ((ready.json as { checks?: { token?: { ok: boolean } } }).checks?.token?.ok === false) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the gateway still sees the token service ${timeoutMs} ms after it was killed`);
}

function expectGatewayNotRestarted() {
  const gateway = env.platform.processes.get('gateway');
  expect(gateway?.pid).toBe(gatewayPid);
  expect(gateway?.exitCode).toBeNull();
  expect(gateway?.signalCode).toBeNull();
}

async function expectOutageAnswers() {
  // The token endpoint: 503 temporarily_unavailable, fast (no waiting out a timeout).
  const response = await requestToken();
  expectTemporarilyUnavailable(response);
  expect(response.elapsedMs).toBeLessThan(2000);

  // Introspection and revocation depend on the same service.
  expectTemporarilyUnavailable(await postForm(`${issuer}/oauth2/introspect`, { token: 'x' }, demoBasic));
  expectTemporarilyUnavailable(await postForm(`${issuer}/oauth2/revoke`, { token: 'x' }, demoBasic));

  // The JWKS is not an OAuth endpoint: a 503 problem.
  const jwks = await http(`${issuer}/jwks`);
  expect({ status: jwks.status, body: jwks.json }).toEqual({ status: 503, body: { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: expect.any(String) } });
  expect(jwks.headers.get('content-type')).toMatch(/^application\/problem\+json/);

  // Readiness says not ready and names the missing service; liveness and discovery still answer.
  const ready = await http(`${env.platform.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(ready.headers.get('cache-control')).toBe('no-store');
  expect(ready.json).toMatchObject({ status: 'unavailable', checks: { token: { ok: false } } });
  expect((await http(`${env.platform.url}/healthz`)).status).toBe(200);
  expect((await http(`${issuer}/.well-known/openid-configuration`)).status).toBe(200);
}

describe('token service outage', () => {
  it('issues tokens while every service runs', async () => {
    expect((await requestToken()).status).toBe(200);
    const ready = await http(`${env.platform.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ok', checks: { token: { ok: true } } });
  });

  it('case=should answer 503 temporarily_unavailable within 2 s because the token service was stopped, and heal when it is back', async () => {
    await env.platform.stopService('token');
    await expectOutageAnswers();

    env.platform.startService('token');
    const healedAfterMs = await waitForTokens(15_000);
    expect(healedAfterMs).toBeLessThan(15_000);
    expectGatewayNotRestarted();
    const ready = await http(`${env.platform.url}/readyz`);
    expect(ready.status).toBe(200);
    // The token service came back with the same keys: a fresh token introspects as active.
    const fresh = (await requestToken()).json as { access_token: string };
    expect((await postForm(`${issuer}/oauth2/introspect`, { token: fresh.access_token }, demoBasic)).json).toMatchObject({ active: true });
  }, 30_000);

  it('case=should answer 503 temporarily_unavailable within 2 s because the token service was killed (SIGKILL), and heal when it is back', async () => {
    const before = (await requestToken()).json as { access_token: string };
    await env.platform.stopService('token', 'SIGKILL');
    // The kernel closes a killed process's connection, but nats-server may route a request that arrives
    // in the same instant to the dead subscriber (that one request then waits out its deadline). Once the
    // server has dropped the connection — readiness says so — every request must fail fast.
    await waitUntilTokenServiceIsGone(10_000);
    await expectOutageAnswers();

    env.platform.startService('token');
    await waitForTokens(15_000);
    expectGatewayNotRestarted();
    // A token issued before the crash is still valid afterwards (keys and revocations are in PostgreSQL).
    expect((await postForm(`${issuer}/oauth2/introspect`, { token: before.access_token }, demoBasic)).json).toMatchObject({ active: true });
  }, 30_000);
});

interface Readiness {
  status: 'ok' | 'unavailable';
  checks: Record<string, { ok: boolean; latencyMs: number }>;
}

/** Polls /readyz until `until` holds; returns the last answer and how long it took. */
async function waitForReadiness(until: (response: HttpResult) => boolean, timeoutMs: number): Promise<{ response: HttpResult; afterMs: number }> {
  const started = performance.now();
  let last: HttpResult | undefined;
  while (performance.now() - started < timeoutMs) {
    last = await http(`${env.platform.url}/readyz`);
    if (until(last)) return { response: last, afterMs: performance.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`/readyz did not change within ${timeoutMs} ms; last answer ${last?.status} ${last?.text}`);
}

describe('policy service outage', () => {
  const policyIsDown = (response: HttpResult) => response.status === 503 && (response.json as Readiness).checks.policy?.ok === false;

  it('case=should say not ready, refuse token requests it cannot decide with 503 temporarily_unavailable within 2 s, and heal when the policy service is back', async () => {
    // While every service runs: ready, with policy among the checks; devices:read is decided (and its
    // allow cached by the token service) before the outage.
    const before = await http(`${env.platform.url}/readyz`);
    expect({ status: before.status, body: before.json }).toMatchObject({ status: 200, body: { status: 'ok', checks: { token: { ok: true }, identity: { ok: true }, policy: { ok: true } } } });
    expect((await requestToken()).status).toBe(200);

    await env.platform.stopService('policy');
    // NATS answers "no responders" for a stopped service: readiness says so at its next probe.
    const { response: ready, afterMs } = await waitForReadiness(policyIsDown, 5000);
    expect(afterMs).toBeLessThan(5000);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(ready.json).toMatchObject({ status: 'unavailable', checks: { policy: { ok: false }, token: { ok: true }, identity: { ok: true } } });
    expect((await http(`${env.platform.url}/healthz`)).status).toBe(200);

    // The token service still holds allows it was given before the outage: policies/data.json gives
    // `token.scope` decisions a cacheTtlSeconds of 60, so for up to a minute a client gets the scopes it
    // was already decided for (docs/adr/0023) — a bounded, deliberate grace, not a bypass.
    expect((await requestToken()).status).toBe(200);
    // What it has no allow for (as every scope is once those allows expire, or after a restart of the
    // token service) needs the decision point: refused fast, never a token with unchecked scopes.
    const undecided = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: 'policy:read' }, demoBasic);
    expectTemporarilyUnavailable(undecided);
    expect(undecided.elapsedMs).toBeLessThan(2000);

    env.platform.startService('policy');
    const { response: healed } = await waitForReadiness((response) => response.status === 200, 20_000);
    expect(healed.json).toMatchObject({ status: 'ok', checks: { policy: { ok: true } } });
    expectGatewayNotRestarted();
    const token = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: 'policy:read' }, demoBasic);
    expect({ status: token.status, scope: (token.json as { scope?: string }).scope }).toEqual({ status: 200, scope: 'policy:read' });
  }, 40_000);
});
