import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * The Prometheus metrics of every Latchkey process, in prom-client's default registry (one per process):
 * default process metrics, the NATS boundary (handlers and callers), the gateway's HTTP requests, the
 * database pools, tokens issued and policy decisions. Every series carries `service`.
 *
 * Labels are bounded on purpose: subjects and route patterns (never a raw URL, id or token), HTTP
 * methods from a fixed list, status codes, contract error codes, grant types. Label children are
 * cached, so recording on the hot path is a map lookup and an addition.
 */

export const METRICS_CONTENT_TYPE = register.contentType;

/** Seconds; NATS handlers and HTTP requests take from well under a millisecond to a few seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let initialised: string | undefined;

/**
 * Names the process (`service` label on every series) and starts the default process metrics. The
 * first call wins, so a composing process (the all-in-one) names itself before its parts do.
 */
export function initMetrics(service: string): void {
  if (initialised) return;
  initialised = service;
  register.setDefaultLabels({ service });
  collectDefaultMetrics({ register });
}

/** The exposition text of every metric (Prometheus text format 0.0.4). */
export function metricsText(): Promise<string> {
  return register.metrics();
}

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [register] });
}

function histogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
  return (register.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS, registers: [register] });
}

function gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L>) => void): Gauge<L> {
  return (register.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [register], ...(collect ? { collect } : {}) });
}

const natsRequests = counter('latchkey_nats_requests_total', 'NATS requests handled, by subject and outcome (ok or the contract error code)', ['subject', 'code']);
const natsDuration = histogram('latchkey_nats_request_duration_seconds', 'Time to handle a NATS request, by subject', ['subject']);
const natsClientRequests = counter('latchkey_nats_client_requests_total', 'NATS requests sent to other services, by subject and outcome (ok, the error code, unavailable)', ['subject', 'outcome']);
const httpRequests = counter('latchkey_http_requests_total', 'HTTP requests answered by the gateway, by method, route pattern and status', ['method', 'route', 'status']);
const httpDuration = histogram('latchkey_http_request_duration_seconds', 'Time to answer an HTTP request, by method and route pattern', ['method', 'route']);
const tokensIssued = counter('latchkey_tokens_issued_total', 'Tokens issued, by grant type', ['grant_type']);
const policyDecisions = counter('latchkey_policy_decisions_total', 'Policy decisions, by outcome (allow or deny)', ['decision']);
const policyDuration = histogram('latchkey_policy_decision_duration_seconds', 'Time to evaluate one policy decision', []);
const natsConnected = gauge('latchkey_nats_connected', '1 while the service is connected to NATS, 0 while it is not', []);

/** What the handler side of one subject records: bound once per subject at decoration time. */
export interface HandlerMetrics {
  /** `code` is `ok` or the contract error code; `seconds` the time the handler took. */
  record(code: string, seconds: number): void;
}

export function handlerMetrics(subject: string): HandlerMetrics {
  const duration = natsDuration.labels(subject);
  const ok = natsRequests.labels(subject, 'ok');
  return {
    record(code, seconds) {
      (code === 'ok' ? ok : natsRequests.labels(subject, code)).inc();
      duration.observe(seconds);
    },
  };
}

const clientChildren = new Map<string, { inc(): void }>();

/** One request sent through ContractClient; `outcome` is `ok` or the ContractError code (`unavailable`, ...). */
export function recordClientRequest(subject: string, outcome: string): void {
  const key = `${subject}\u0000${outcome}`;
  let child = clientChildren.get(key);
  if (!child) clientChildren.set(key, (child = natsClientRequests.labels(subject, outcome)));
  child.inc();
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const httpChildren = new Map<string, { count: { inc(): void }; duration: { observe(value: number): void } }>();

/**
 * One HTTP answer. `route` must be the route pattern (`/t/:tenant/oauth2/token`), or undefined when no
 * route matched (`unmatched`): never the raw URL, which would put ids and tokens in labels.
 */
export function recordHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
  const m = HTTP_METHODS.has(method) ? method : 'other';
  const r = route ?? 'unmatched';
  const key = `${m} ${status} ${r}`;
  let child = httpChildren.get(key);
  if (!child) httpChildren.set(key, (child = { count: httpRequests.labels(m, r, String(status)), duration: httpDuration.labels(m, r) }));
  child.count.inc();
  child.duration.observe(seconds);
}

const grantChildren = new Map<string, { inc(): void }>();

/** A token response was issued for this grant type (the token service). */
export function recordTokenIssued(grantType: string): void {
  let child = grantChildren.get(grantType);
  if (!child) grantChildren.set(grantType, (child = tokensIssued.labels(grantType)));
  child.inc();
}

const allowed = policyDecisions.labels('allow');
const denied = policyDecisions.labels('deny');

/** One policy decision (the policy service's decision point) and the time its evaluation took. */
export function recordPolicyDecision(allow: boolean, seconds: number): void {
  (allow ? allowed : denied).inc();
  policyDuration.observe(seconds);
}

export function setNatsConnected(connected: boolean): void {
  natsConnected.set(connected ? 1 : 0);
}

/** The counters of a pg Pool. */
export interface PoolLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

type PoolSource = () => Iterable<{ name: string; pool: PoolLike }>;
const poolSources = new Set<PoolSource>();

function collectPools(this: Gauge<'pool'>, read: (pool: PoolLike) => number): void {
  this.reset();
  for (const source of poolSources) for (const { name, pool } of source()) this.set({ pool: name }, read(pool));
}

/**
 * Adds the database pools `source` lists to the pool gauges (read at each scrape): a service with a
 * database registers its pools once at boot.
 */
export function registerPoolMetrics(source: PoolSource): void {
  poolSources.add(source);
  gauge('latchkey_db_pool_connections', 'Connections the database pool holds', ['pool'], function () {
    collectPools.call(this, (pool) => pool.totalCount);
  });
  gauge('latchkey_db_pool_idle_connections', 'Idle connections in the database pool', ['pool'], function () {
    collectPools.call(this, (pool) => pool.idleCount);
  });
  gauge('latchkey_db_pool_waiting_requests', 'Queries waiting for a connection of the database pool', ['pool'], function () {
    collectPools.call(this, (pool) => pool.waitingCount);
  });
}
