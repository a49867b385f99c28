import v8 from 'node:v8';
import { CommonEnv, ConfigError, DatabaseServiceEnv, loadTenantsFile, parseEnv, type TenantsFile } from '@latchkey/config';
import { initTracing, type MessagingOptions, registerPoolMetrics, type TransportConfig, useNatsCredentials } from '@latchkey/messaging';
import { type DatabaseConfig, openDatabasePools, requiredMigrationOf, waitForSchema } from '@latchkey/persistence';
import { Logger, type LogLevel } from '@nestjs/common';
import type { z } from 'zod';
import { TraceConsoleLogger } from './trace-logger.js';

/** What every distributed service boots with, read from the environment once. */
export interface ServiceContext<E> {
  env: E;
  tenants: TenantsFile;
  transport: TransportConfig;
  messaging: MessagingOptions;
  logLevel: LogLevel;
}

export interface DatabaseServiceContext<E> extends ServiceContext<E> {
  database: DatabaseConfig;
  healthPort: number;
}

export async function loadServiceContext<S extends z.ZodType<z.output<typeof CommonEnv>>>(name: string, schema: S = CommonEnv as unknown as S): Promise<ServiceContext<z.output<S>>> {
  const env: z.output<S> = parseEnv(schema);
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT is set; log lines then end with the active trace id (the
  // levels Nest is given at boot still apply to this logger).
  const tracing = await initTracing(name);
  if (tracing || env.LOG_FORMAT === 'json') Logger.overrideLogger(new TraceConsoleLogger(name, { json: env.LOG_FORMAT === 'json' }));
  try {
    useNatsCredentials({ credsFile: env.NATS_CREDS_FILE, token: env.NATS_TOKEN });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const transport: TransportConfig = { kind: 'nats', servers: env.NATS_URL, name: `latchkey-${name}` };
  return {
    env,
    tenants: await loadTenantsFile(env.TENANTS_FILE),
    transport,
    messaging: { transport, requestTimeoutMs: env.NATS_REQUEST_TIMEOUT_MS },
    logLevel: env.LOG_LEVEL,
  };
}

export async function loadDatabaseServiceContext<S extends z.ZodType<z.output<typeof DatabaseServiceEnv>>>(
  name: string,
  schema: S = DatabaseServiceEnv as unknown as S,
): Promise<DatabaseServiceContext<z.output<S>>> {
  const context = await loadServiceContext(name, schema);
  await waitForOwnSchema(name, context.env.DATABASE_URL, context.env.SCHEMA_WAIT_TIMEOUT_SECONDS);
  // The pool gauges (latchkey_db_pool_*) read the service's pools at each scrape.
  registerPoolMetrics(openDatabasePools);
  return {
    ...context,
    database: { kind: 'url', url: context.env.DATABASE_URL, poolSize: context.env.DATABASE_POOL_SIZE },
    healthPort: context.env.HEALTH_PORT,
  };
}

/**
 * Holds the boot until the service's schema has the newest migration this build knows (applied by the
 * migration Job, which may still be running during an install or upgrade): new code never runs on an
 * old schema. Bounded by SCHEMA_WAIT_TIMEOUT_SECONDS (0: no check); past it the service exits with a
 * message naming the missing migration, and Kubernetes restarts it.
 */
async function waitForOwnSchema(service: string, url: string, timeoutSeconds: number): Promise<void> {
  if (timeoutSeconds <= 0) return;
  const required = requiredMigrationOf(service);
  if (!required) return;
  const logger = new Logger(`${service} schema`);
  try {
    await waitForSchema({ url, required, timeoutMs: timeoutSeconds * 1000, log: (line) => logger.log(line) });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Runs a boot function; a configuration error is printed readably (no stack) and exits with 1. */
export function bootOrExit(boot: () => Promise<unknown>): void {
  boot().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest takes the list of levels to print; configuration names the most verbose one. */
export function logLevelsUpTo(level: LogLevel): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/**
 * Prisma's query compiler is a WebAssembly module; V8's optimising wasm tier (TurboFan) keeps a second
 * compiled copy of it, ~60 MB per service. Its baseline tier is fast enough for query planning, which
 * is cached per query shape. Must run before the first database query compiles the module.
 */
export function useBaselineWasmCompiler(): void {
  v8.setFlagsFromString('--liftoff-only');
}
