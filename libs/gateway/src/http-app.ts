import {
  endHttpServerSpan,
  type HttpServerTrace,
  initMetrics,
  METRICS_CONTENT_TYPE,
  metricsText,
  recordHttpRequest,
  shutdownTracing,
  startHttpServerSpan,
  tracingEnabled,
  withTraceContext,
} from '@latchkey/messaging';
import type { DynamicModule, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { honourRouteBodyLimits, registerApiBodyParsers } from './http/api-bodies.js';
import { registerFormParser } from './http/form-body.js';
import { sendError } from './http/http-errors.js';

/** OAuth and admin requests are small; a larger body is refused before it is read (bulk upload: its own limit). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Errors Fastify raises before a controller runs (body too large, unknown content type) reach Nest's
 * exception handling through the error handler Nest installs, and so the global GatewayErrorFilter.
 * Creates the Fastify-based Nest application of the HTTP edge for any root module (the gateway alone,
 * or the all-in-one process), with the form parser and the error rendering the endpoints rely on.
 */
export interface HttpAppOptions {
  /**
   * The reverse proxies (IP addresses, CIDR ranges) whose `X-Forwarded-For` / `-Proto` / `-Host` are
   * believed (TRUSTED_PROXIES). `request.ip` is then the address the nearest trusted proxy saw, and a
   * header sent by any other peer is ignored; none (the default): the peer's own address, always.
   */
  trustedProxies?: readonly string[];
  /** The `service` label of the process's metrics (default `gateway`; the first process-wide name wins). */
  metricsService?: string;
}

export async function createHttpApp(module: DynamicModule, logLevels: LogLevel[], options: HttpAppOptions = {}): Promise<NestFastifyApplication> {
  const trustedProxies = options.trustedProxies ?? [];
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Never `true`: that would let any client set the address the IP throttles count it under.
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    logger: false,
    return503OnClosing: true,
    // Errors the router raises before any route or Nest handler runs (a malformed or overlong path
    // parameter) get the same OAuth / problem+json rendering instead of Fastify's own JSON.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      sendError(request, reply, error);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger: logLevels, bodyParser: false });
  const fastify = app.getHttpAdapter().getInstance();
  registerFormParser(fastify);
  registerApiBodyParsers(fastify);
  honourRouteBodyLimits(fastify);
  registerMetrics(fastify, options.metricsService ?? 'gateway');
  registerTracing(fastify);
  return app;
}

const TRACE = Symbol('latchkey.trace');
type TracedRequest = FastifyRequest & { [TRACE]?: HttpServerTrace };

/**
 * One SERVER span per HTTP request (tracing on: OTEL_EXPORTER_OTLP_ENDPOINT), named by method and route
 * pattern (never the URL), ended when the response is sent. Its context is entered at onRequest and
 * again at preHandler: a body arrives on socket events outside the request's async context, so the
 * controller (and the NATS requests it makes) would otherwise run without it. A client's `traceparent`
 * becomes a link, not the parent (startHttpServerSpan). The batch is flushed when Fastify closes.
 */
function registerTracing(fastify: FastifyInstance): void {
  fastify.addHook('onClose', async () => shutdownTracing());
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request: TracedRequest, _reply, done) => {
    const incoming = request.headers.traceparent;
    const trace = startHttpServerSpan(request.method, request.routeOptions.url ?? 'unmatched', typeof incoming === 'string' ? incoming : undefined);
    request[TRACE] = trace;
    withTraceContext(trace.context, done);
  });
  fastify.addHook('preHandler', (request: TracedRequest, _reply, done) => {
    const trace = request[TRACE];
    if (trace) withTraceContext(trace.context, done);
    else done();
  });
  const end = (request: TracedRequest, status: number | undefined) => {
    const trace = request[TRACE];
    if (!trace) return;
    request[TRACE] = undefined;
    endHttpServerSpan(trace, status);
  };
  fastify.addHook('onResponse', (request: TracedRequest, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request: TracedRequest, done) => {
    end(request, undefined);
    done();
  });
}

/**
 * Request metrics (latchkey_http_*) by method, route pattern and status: `routeOptions.url` is the
 * pattern (`/t/:tenant/oauth2/token`), never the URL, so no id or token reaches a label; requests no
 * route matched count as `unmatched`. GET /metrics serves the exposition text on the gateway's port:
 * an operator keeps it off the public ingress (docs/operations/kubernetes.md).
 */
function registerMetrics(fastify: FastifyInstance, service: string): void {
  initMetrics(service);
  fastify.addHook('onResponse', (request, reply, done) => {
    recordHttpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  fastify.get('/metrics', async (_request, reply) => {
    reply.header('content-type', METRICS_CONTENT_TYPE).header('cache-control', 'no-store');
    return metricsText();
  });
}
