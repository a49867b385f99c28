import { AsyncLocalStorage } from 'node:async_hooks';
import { type Attributes, type Context, context, type ContextManager, type Link, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

/**
 * Traces (docs/operations/kubernetes.md "Traces"): one tracer provider per process, named by
 * `service.name`, exporting OTLP/HTTP JSON in batches, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * Without it nothing is registered and `tracingEnabled()` is false: the hot paths (ContractClient, the
 * handler wrapper, the gateway's hooks) skip every span call, so tracing off costs a boolean test.
 *
 * The SDK and exporter are imported only then: loaded for nothing they cost every service ~5 MB of
 * its idle memory budget (docs/benchmarks.md).
 *
 * Propagation is W3C `traceparent` in NATS message headers (the in-process transport carries the same
 * header in its packet); inside a process the active span travels with AsyncLocalStorage.
 */

const TRACER_NAME = 'latchkey';
let enabled = false;
let provider: BasicTracerProvider | undefined;
let tracer: Tracer = trace.getTracer(TRACER_NAME);

/** The api's context manager on AsyncLocalStorage (what @opentelemetry/context-async-hooks does, minus EventEmitter binding). */
class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const bound = thisArg === undefined ? fn : (fn.bind(thisArg) as F);
    return this.storage.run(ctx, bound, ...args);
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

/**
 * Starts tracing for this process when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter appends
 * `/v1/traces`; OTEL_BSP_* tune the batch). Idempotent: the first name wins (the all-in-one process).
 */
export async function initTracing(serviceName: string): Promise<boolean> {
  const env = process.env;
  if (provider || !env.OTEL_EXPORTER_OTLP_ENDPOINT) return enabled;
  const [{ W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor }] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  // Another caller may have won the race while the modules loaded.
  if (provider) return enabled;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol && protocol !== 'http/json') {
    process.stderr.write(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: traces are sent as OTLP/HTTP JSON (http/json)\n`);
  }
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = trace.getTracer(TRACER_NAME);
  enabled = true;
  return true;
}

/** False unless initTracing found an endpoint: callers skip all span work then. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Flushes the spans still batched and stops the exporter; bounded, so an absent collector cannot hold the exit. */
export async function shutdownTracing(timeoutMs = 3_000): Promise<void> {
  const current = provider;
  if (!current) return;
  provider = undefined;
  enabled = false;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    current.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** The trace id of the span active here, if any (for log lines). */
export function activeTraceId(): string | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const spanContext = span.spanContext();
  return trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** Contract error codes that are the caller's fault: not an error of the span that answered them. */
const SERVER_FAULTS = new Set(['internal', 'unavailable']);

/** Marks the span failed for server faults (`internal`, `unavailable`, anything not a contract error); records the code either way. */
export function recordSpanError(span: Span, error: unknown): void {
  // A ContractError, or the RpcException carrying a handler's envelope.
  const rpc = error as { getError?: () => unknown } | null;
  const failure = typeof rpc?.getError === 'function' ? rpc.getError() : error;
  const code = typeof (failure as { code?: unknown } | null)?.code === 'string' ? (failure as { code: string }).code : undefined;
  if (code) span.setAttribute('latchkey.error_code', code);
  if (!code || SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, ...(code ? { message: code } : {}) });
}

/** Runs `fn` in a new active span (ended when `fn` settles, its failure recorded). Only call when tracingEnabled(). */
export function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordSpanError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The `traceparent` (and `tracestate`) of the active context, as a header carrier; empty when tracing is off. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (enabled) propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a received message continues: its `traceparent`, read by `get` (NATS headers or a packet's carrier). */
export function extractTraceContext(get: (key: string) => string | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, undefined, {
    get: (_carrier, key) => get(key),
    keys: () => ['traceparent', 'tracestate'],
  });
}

/** Runs `fn` with `ctx` active. */
export function withTraceContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/**
 * The gateway's span for one HTTP request. It is a root: a `traceparent` sent by a client on the public
 * edge is not trusted as parent (anyone could join or flood another trace, or force sampling) and
 * becomes a span link instead, so a caller's trace can still be found from ours.
 */
export interface HttpServerTrace {
  span: Span;
  context: Context;
}

export function startHttpServerSpan(method: string, route: string, incomingTraceparent: string | undefined): HttpServerTrace {
  const links: Link[] = [];
  if (incomingTraceparent) {
    const remote = trace.getSpanContext(extractTraceContext((key) => (key === 'traceparent' ? incomingTraceparent : undefined)));
    if (remote) links.push({ context: remote });
  }
  const span = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, root: true, links, attributes: { 'http.method': method, 'http.route': route } }, ROOT_CONTEXT);
  return { span, context: trace.setSpan(ROOT_CONTEXT, span) };
}

/** Ends the HTTP request's span with its status (none: the client went away); 5xx is an error. */
export function endHttpServerSpan(httpTrace: HttpServerTrace, status: number | undefined): void {
  if (status !== undefined) {
    httpTrace.span.setAttribute('http.status_code', status);
    if (status >= 500) httpTrace.span.setStatus({ code: SpanStatusCode.ERROR });
  }
  httpTrace.span.end();
}

export { SpanKind };
