import v8 from 'node:v8';
import { CommonEnv, ConfigError, DatabaseServiceEnv, loadTenantsFile, parseEnv, type TenantsFile } from '@latchkey/config';
import type { MessagingOptions, TransportConfig } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { LogLevel } from '@nestjs/common';
import type { z } from 'zod';

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
  return {
    ...context,
    database: { kind: 'url', url: context.env.DATABASE_URL, poolSize: context.env.DATABASE_POOL_SIZE },
    healthPort: context.env.HEALTH_PORT,
  };
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
