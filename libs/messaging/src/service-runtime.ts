import { createServer, type Server } from 'node:http';
import { type DynamicModule, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
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
 * Boots one service as a NATS microservice with graceful shutdown: on SIGTERM/SIGINT it stops taking
 * messages, lets in-flight ones finish (NestJS drains the NATS subscriptions) and closes its pools.
 */
export async function runService(boot: ServiceBoot): Promise<INestMicroservice> {
  const logger = new Logger(boot.name);
  const app = await NestFactory.createMicroservice(boot.module, {
    ...microserviceOptions(boot.transport, boot.queue),
    logger: boot.logLevels,
    bufferLogs: false,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen();
  const probes = boot.healthPort > 0 ? await startProbeServer(boot.healthPort, app.get<ServiceHealth>(SERVICE_HEALTH)) : undefined;
  if (probes) {
    const close = () => probes.close();
    process.once('SIGTERM', close);
    process.once('SIGINT', close);
  }
  logger.log(`${boot.name} is listening${probes ? `; probes on :${boot.healthPort}` : ''}`);
  return app;
}

/** GET /healthz (the process is alive) and GET /readyz (NATS and database answer) for Kubernetes. */
export function startProbeServer(port: number, health: ServiceHealth): Promise<Server> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return reply(405, { status: 'method not allowed' });
    if (request.url === '/healthz') return reply(200, { status: 'ok' });
    if (request.url === '/readyz') {
      health.check().then(
        (result) => reply(result.status === 'ok' ? 200 : 503, result),
        () => reply(503, { status: 'degraded' }),
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
