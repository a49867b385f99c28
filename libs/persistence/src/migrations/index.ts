import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { applyMigrations } from './apply-migrations.js';
import { latestMigrationName, type RequiredMigration } from './schema-wait.js';

export { applyMigrations, readMigrations, PRISMA_ADVISORY_LOCK_KEY } from './apply-migrations.js';
export type { ApplyMigrationsOptions, MigrationFile } from './apply-migrations.js';
export { latestMigrationName, waitForSchema } from './schema-wait.js';
export type { RequiredMigration, WaitForSchemaOptions } from './schema-wait.js';

/** One Prisma schema per service, each owning one PostgreSQL schema (`prisma/<prismaDir>/`). */
export const SERVICE_SCHEMAS = [
  { service: 'token', schema: 'token', prismaDir: 'token' },
  { service: 'identity', schema: 'identity', prismaDir: 'identity' },
  { service: 'device-registry', schema: 'devices', prismaDir: 'devices' },
  { service: 'delegation', schema: 'delegation', prismaDir: 'delegation' },
  { service: 'policy', schema: 'policy', prismaDir: 'policy' },
] as const satisfies readonly { service: string; schema: string; prismaDir: string }[];

/**
 * The repository's `prisma/` folder. This file runs as libs/persistence/src/migrations/*.ts (tests, tsx)
 * and as libs/persistence/dist/migrations/*.js (production image): both sit four levels below the root.
 */
export function defaultPrismaRoot(): string {
  return fileURLToPath(new URL('../../../../prisma/', import.meta.url));
}

/**
 * The schema a service owns and the newest migration its code (this build) needs, or undefined for a
 * service without a schema.
 */
export function requiredMigrationOf(service: string, prismaRoot: string = defaultPrismaRoot()): RequiredMigration | undefined {
  const entry = SERVICE_SCHEMAS.find((candidate) => candidate.service === service);
  if (!entry) return undefined;
  const migration = latestMigrationName(join(prismaRoot, entry.prismaDir, 'migrations'));
  return migration ? { schema: entry.schema, migration } : undefined;
}

export interface SchemaMigrationResult {
  service: string;
  schema: string;
  applied: string[];
}

/** Applies every service's pending migrations, one schema after the other, on the given pool. */
export async function migrateAll(
  pool: pg.Pool,
  log?: (line: string) => void,
  prismaRoot: string = defaultPrismaRoot(),
): Promise<SchemaMigrationResult[]> {
  const results: SchemaMigrationResult[] = [];
  for (const { service, schema, prismaDir } of SERVICE_SCHEMAS) {
    const { applied } = await applyMigrations({ pool, schema, migrationsDir: join(prismaRoot, prismaDir, 'migrations'), log });
    results.push({ service, schema, applied });
  }
  return results;
}
