// A rolling restart of every service under load loses no request. A load generator (20 concurrent
// client_credentials token requests for demo-service, and introspections of the tokens it gets) runs
// for the whole test, round-robin over a set of gateway URLs as a Kubernetes Service would. Each backend
// service in turn gets a second replica (ready on its probe port), then the old process is sent SIGTERM;
// the gateway gets a replica on a new port, which joins the set, the old one leaves it (endpoint removal)
// and is then sent SIGTERM. Every answer must be 200, and every old process must exit by itself within
// the grace period. Then /metrics of the gateway and of a NATS-only service show the counters, with no
// token or secret in any label.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, type Replica, type ServiceName, startE2eEnvironment, type StopResult } from './support/platform.js';

const BACKENDS: ServiceName[] = ['identity', 'token', 'delegation', 'device-registry', 'policy'];
const CONCURRENCY = 20;
/** The grace period the test allows a process between SIGTERM and its exit (SIGKILL after it). */
const GRACE_MS = 10_000;
const demoBasic = basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret);

let env: E2eEnvironment;

beforeAll(async () => {
  env = await startE2eEnvironment();
}, 90_000);

afterAll(async () => {
  await env?.close();
});

/** Client-side load balancing over `gateways` (mutable: replicas join and leave while it runs). */
class LoadGenerator {
  gateways: string[];
  tokens = 0;
  introspections = 0;
  readonly failures: string[] = [];
  private running = true;
  private next = 0;
  private lastToken: string | undefined;
  private workers: Promise<void>[] = [];

  constructor(gateway: string) {
    this.gateways = [gateway];
  }

  get sent(): number {
    return this.tokens + this.introspections;
  }

  start(): void {
    this.workers = Array.from({ length: CONCURRENCY }, (_, worker) => this.work(worker));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async work(worker: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      const gateway = this.gateways[this.next++ % this.gateways.length]!;
      // A few introspections (one request in ten of a third of the workers) among the token requests.
      if (worker % 3 === 0 && i % 10 === 9 && this.lastToken) await this.introspect(gateway, this.lastToken);
      else await this.requestToken(gateway);
    }
  }

  private async requestToken(gateway: string): Promise<void> {
    this.tokens++;
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'devices:read' }).toString();
    const answer = await this.post(`${gateway}/t/demo/oauth2/token`, body);
    if (!answer) return;
    const token = (answer as { access_token?: unknown }).access_token;
    if (typeof token === 'string') this.lastToken = token;
    else this.failures.push(`token from ${gateway}: no access_token`);
  }

  private async introspect(gateway: string, token: string): Promise<void> {
    this.introspections++;
    const answer = await this.post(`${gateway}/t/demo/oauth2/introspect`, new URLSearchParams({ token }).toString());
    if (answer && (answer as { active?: unknown }).active !== true) this.failures.push(`introspection on ${gateway}: not active`);
  }

  private async post(url: string, body: string): Promise<unknown> {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: demoBasic }, body });
      const text = await response.text();
      if (response.status !== 200) {
        this.failures.push(`${url}: ${response.status} ${text.slice(0, 200)}`);
        return undefined;
      }
      return JSON.parse(text) as unknown;
    } catch (error) {
      this.failures.push(`${url}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`);
      return undefined;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectExitedByItself(name: string, result: StopResult) {
  expect({ name, killed: result.killed, withinGrace: result.elapsedMs < GRACE_MS }).toEqual({ name, killed: false, withinGrace: true });
  expect({ name, code: result.code, signal: result.signal }).toEqual({ name, code: 0, signal: null });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function samples(text: string): Sample[] {
  const result: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    result.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return result;
}

/** The value of the one sample with this name and (at least) these labels; -1 when there is none. */
function valueOf(all: Sample[], name: string, labels: Record<string, string>): number {
  const found = all.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return found.length === 1 ? found[0]!.value : -1;
}

function expectNoSecretsInLabels(text: string) {
  expect(text).not.toContain(DEMO_CLIENT.secret);
  for (const sample of samples(text)) {
    for (const value of Object.values(sample.labels)) {
      // No JWT (access token), no long opaque value (refresh token, id), no query string.
      expect(value).not.toMatch(/eyJ|\?|secret/i);
      expect(value.length).toBeLessThan(80);
    }
  }
}

describe('rolling restart under load', () => {
  let load: LoadGenerator;
  let gateway: Replica;
  let token: Replica;

  it('case=should answer every request 200 because each old process drains before it exits, while every service is replaced one by one', async () => {
    load = new LoadGenerator(env.platform.url);
    load.start();
    await sleep(1000);
    const exits: Record<string, StopResult> = {};

    for (const name of BACKENDS) {
      const replica = await env.platform.startReplica(name);
      await replica.ready(30_000);
      if (name === 'token') token = replica;
      exits[name] = await env.platform.stopService(name, 'SIGTERM');
      await sleep(300);
    }

    // The gateway: the new one joins the endpoints, the old one leaves them, then gets SIGTERM.
    const old = env.platform.url;
    gateway = await env.platform.startReplica('gateway');
    await gateway.ready(30_000);
    load.gateways = [old, gateway.url];
    await sleep(500);
    load.gateways = [gateway.url];
    await sleep(300);
    exits.gateway = await env.platform.stopService('gateway', 'SIGTERM');
    await sleep(1000);
    await load.stop();

    process.stdout.write(`rolling restart: ${load.sent} requests (${load.tokens} tokens, ${load.introspections} introspections), ${load.failures.length} failed; exits ${JSON.stringify(exits)}\n`);
    expect(load.failures).toEqual([]);
    expect(load.tokens).toBeGreaterThan(100);
    expect(load.introspections).toBeGreaterThan(5);
    for (const [name, result] of Object.entries(exits)) expectExitedByItself(name, result);
  }, 120_000);

  it('case=should expose the request, NATS and token counters on /metrics because the replicas served the load, with no token or secret in a label', async () => {
    const fromGateway = await fetch(`${gateway.url}/metrics`);
    expect(fromGateway.status).toBe(200);
    expect(fromGateway.headers.get('content-type')).toMatch(/^text\/plain/);
    const gatewayText = await fromGateway.text();
    const atGateway = samples(gatewayText);
    const tokenRoute = { method: 'POST', route: '/t/:tenant/oauth2/token', service: 'gateway' };
    expect(valueOf(atGateway, 'latchkey_http_requests_total', { ...tokenRoute, status: '200' })).toBeGreaterThan(0);
    expect(valueOf(atGateway, 'latchkey_http_request_duration_seconds_count', tokenRoute)).toBeGreaterThan(0);
    expect(valueOf(atGateway, 'latchkey_nats_client_requests_total', { subject: 'latchkey.token.v1.issue', outcome: 'ok', service: 'gateway' })).toBeGreaterThan(0);
    expect(valueOf(atGateway, 'process_cpu_seconds_total', { service: 'gateway' })).toBeGreaterThan(0);
    // Route patterns only: no raw path with a tenant, id or token.
    const routes = new Set(atGateway.filter((sample) => sample.name === 'latchkey_http_requests_total').map((sample) => sample.labels.route));
    expect([...routes].filter((route) => route !== undefined && route.startsWith('/t/') && !route.startsWith('/t/:tenant'))).toEqual([]);
    expectNoSecretsInLabels(gatewayText);

    const fromToken = await fetch(`${token.url}/metrics`);
    expect(fromToken.status).toBe(200);
    const tokenText = await fromToken.text();
    const atToken = samples(tokenText);
    const issue = { subject: 'latchkey.token.v1.issue', service: 'token' };
    expect(valueOf(atToken, 'latchkey_nats_requests_total', { ...issue, code: 'ok' })).toBeGreaterThan(0);
    expect(valueOf(atToken, 'latchkey_nats_request_duration_seconds_count', issue)).toBeGreaterThan(0);
    expect(valueOf(atToken, 'latchkey_tokens_issued_total', { grant_type: 'client_credentials', service: 'token' })).toBeGreaterThan(0);
    expect(valueOf(atToken, 'latchkey_db_pool_connections', { service: 'token' })).toBeGreaterThan(0);
    expect(valueOf(atToken, 'latchkey_nats_connected', { service: 'token' })).toBe(1);
    expectNoSecretsInLabels(tokenText);
  });
});
