import { createServer, type Server } from 'node:http';
import { type DynamicModule, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { initMetrics, METRICS_CONTENT_TYPE, metricsText, setNatsConnected } from './metrics.js';
import { NatsSubjectServer } from './nats-subject-server.js';
import { shutdownTracing } from './tracing.js';
import { SERVICE_HEALTH, type ServiceHealth } from './service-health.js';
import { microserviceOptions, type TransportConfig } from './transport.js';

export interface ServiceBoot {
  name: string;
  module: DynamicModule;
  transport: TransportConfig;
  /** Replicas of one service share a NATS queue group named after it. */
  queue: string;
  healthPort: number;
  /** The levels Nest prints. */
  logLevels: LogLevel[];
}

/**
 * Boots one service as a NATS microservice with graceful shutdown. On SIGTERM/SIGINT it first drains
 * its NATS subscriptions (this replica gets no new request; those already sent to it are handled) and
 * waits for the requests in flight to be answered, and only then runs Nest's shutdown hooks (event
 * consumers, outbox relays, the decision log, the client and the pools close), and exits with 0. During
 * the drain /readyz answers 503; /healthz and /metrics keep answering until the process exits.
 */
export async function runService(boot: ServiceBoot): Promise<INestMicroservice> {
  const logger = new Logger(boot.name);
  initMetrics(boot.name);
  const options = microserviceOptions(boot.transport, boot.queue);
  const app = await NestFactory.createMicroservice(boot.module, {
    ...options,
    logger: boot.logLevels,
    bufferLogs: false,
  });
  await app.listen();
  const server = 'strategy' in options && options.strategy instanceof NatsSubjectServer ? options.strategy : undefined;
  if (server) {
    setNatsConnected(true);
    server.on('disconnect', () => setNatsConnected(false));
    server.on('reconnect', () => setNatsConnected(true));
  }
  const state = { draining: false };
  const probes = boot.healthPort > 0 ? await startProbeServer(boot.healthPort, app.get<ServiceHealth>(SERVICE_HEALTH), state) : undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      logger.log(`${signal}: draining (no new requests; finishing ${server?.requestsInFlight ?? 0} in flight)`);
      state.draining = true;
      let code = 0;
      try {
        await server?.drainRequests();
        await app.close();
      } catch (error) {
        code = 1;
        logger.error(`shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      if (probes) {
        probes.closeAllConnections();
        await new Promise((resolve) => probes.close(resolve));
      }
      logger.log('stopped');
      // The spans of the last requests are still batched: export them before exiting.
      await shutdownTracing();
      process.exit(code);
    })();
  };
  // process.on, not once: a second signal during the drain must not kill the process with its default action.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  logger.log(`${boot.name} is listening${probes ? `; probes and /metrics on :${boot.healthPort}` : ''}`);
  return app;
}

/**
 * GET /healthz (the process is alive), GET /readyz (NATS and database answer; 503 while draining) for
 * Kubernetes, and GET /metrics (Prometheus text format) for the scraper.
 */
export function startProbeServer(port: number, health: ServiceHealth, state: { draining: boolean } = { draining: false }): Promise<Server> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return reply(405, { status: 'method not allowed' });
    if (request.url === '/healthz') return reply(200, { status: 'ok' });
    if (request.url === '/readyz') {
      if (state.draining) return reply(503, { status: 'draining' });
      health.check().then(
        (result) => reply(result.status === 'ok' ? 200 : 503, result),
        () => reply(503, { status: 'degraded' }),
      );
      return;
    }
    if (request.url === '/metrics') {
      metricsText().then(
        (text) => {
          response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
          response.end(text);
        },
        () => reply(500, { status: 'metrics unavailable' }),
      );
      return;
    }
    reply(404, { status: 'not found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
