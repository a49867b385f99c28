import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** A service's schema and the last migration its code was written against. */
export interface RequiredMigration {
  schema: string;
  migration: string;
}

/** The newest migration in a Prisma migrations folder (`<timestamp>_<name>/`, applied in name order). */
export function latestMigrationName(migrationsDir: string): string | undefined {
  if (!existsSync(migrationsDir)) return undefined;
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .at(-1);
}

export interface WaitForSchemaOptions {
  /** The service's PostgreSQL URL (its own short-lived connections; the service's pool is not open yet). */
  url: string;
  required: RequiredMigration;
  /** Give up after this long: the error names the missing migration. */
  timeoutMs: number;
  /** Between checks (default 2 s). */
  intervalMs?: number;
  log?: (line: string) => void;
}

type Check = { ok: true } | { ok: false; reason: string };

/**
 * Waits until `<schema>._prisma_migrations` records `migration` as applied (finished, not rolled back).
 *
 * Expand/contract: the migration Job of a release runs while the previous release still serves, so a
 * schema is always at least as new as the oldest code running on it; the NEW code must not start before
 * its own migrations are in. Newer migrations than this code knows (the next release's expand step, or a
 * rollback of the code) are fine: only the presence of its own latest one is checked. A missing table, a
 * database that does not answer yet or a migration still running all mean "not yet".
 */
export async function waitForSchema(options: WaitForSchemaOptions): Promise<{ waitedMs: number }> {
  const { url, required, timeoutMs, intervalMs = 2000, log = () => undefined } = options;
  const started = Date.now();
  let last = await checkSchema(url, required);
  if (last.ok) return { waitedMs: 0 };
  log(`waiting for migration ${required.migration} in schema "${required.schema}" (${last.reason}); the migration Job applies it (scripts/db-migrate.mjs)`);
  let lastLogged = Date.now();
  while (Date.now() - started < timeoutMs) {
    await sleep(Math.min(intervalMs, Math.max(timeoutMs - (Date.now() - started), 0)));
    last = await checkSchema(url, required);
    if (last.ok) {
      const waitedMs = Date.now() - started;
      log(`schema "${required.schema}" has migration ${required.migration} (waited ${Math.round(waitedMs / 1000)} s)`);
      return { waitedMs };
    }
    if (Date.now() - lastLogged >= 30_000) {
      log(`still waiting for migration ${required.migration} in schema "${required.schema}" (${last.reason})`);
      lastLogged = Date.now();
    }
  }
  throw new Error(
    `schema "${required.schema}" does not have migration ${required.migration} after ${Math.round(timeoutMs / 1000)} s (${last.reason}). ` +
      'Run the migrations of this release first (`node scripts/db-migrate.mjs`: the Helm chart\'s db-migrate Job, the db-migrate Job of k8s/base, ' +
      'the `migrate` service of docker-compose.yml), or raise SCHEMA_WAIT_TIMEOUT_SECONDS.',
  );
}

async function checkSchema(url: string, { schema, migration }: RequiredMigration): Promise<Check> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'latchkey-schema-wait' });
  // An error event after connecting (server restart) must not crash the process: the query fails instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const table = `"${schema.replace(/"/g, '""')}"."_prisma_migrations"`;
    const { rows } = await client.query<{ finished: boolean }>(
      `SELECT finished_at IS NOT NULL AS finished FROM ${table} WHERE migration_name = $1 AND rolled_back_at IS NULL ORDER BY started_at DESC LIMIT 1`,
      [migration],
    );
    if (rows.length === 0) return { ok: false, reason: 'not applied yet' };
    return rows[0]?.finished ? { ok: true } : { ok: false, reason: 'being applied' };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42P01' || code === '3F000') return { ok: false, reason: 'no migration history yet' };
    return { ok: false, reason: `database: ${code ?? (error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
