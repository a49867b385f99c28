import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

/**
 * The key Prisma's own schema engine locks on PostgreSQL: sharing it makes this runner and a native
 * `prisma migrate deploy` against the same database wait for each other instead of racing.
 */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

export interface ApplyMigrationsOptions {
  pool: pg.Pool;
  schema: string;
  migrationsDir: string;
  log?: (line: string) => void;
}

/** Prisma's folder layout: `<timestamp>_<name>/migration.sql`, applied in name order. */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(migrationsDir, name, 'migration.sql');
      if (!existsSync(file)) throw new Error(`migration ${name} has no migration.sql (${file})`);
      const bytes = readFileSync(file);
      // Prisma's checksum: sha256 (lower-case hex) of the file's bytes as they are.
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

/**
 * Applies the pending migrations of one Postgres schema and records them in `<schema>._prisma_migrations`,
 * readable by `prisma migrate deploy/status` with `?schema=<schema>`.
 *
 * Everything runs on ONE pooled connection: the session advisory lock belongs to it, and PGlite served
 * over a socket has a single session, where a second connection would interleave with the first.
 */
export async function applyMigrations(opts: ApplyMigrationsOptions): Promise<{ applied: string[] }> {
  const { pool, schema, migrationsDir, log = () => undefined } = opts;
  const files = readMigrations(migrationsDir);
  const table = `${quoteIdent(schema)}."_prisma_migrations"`;
  const client = await pool.connect();
  let unlockFailed: Error | undefined;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PRISMA_ADVISORY_LOCK_KEY]);
    if (!rows[0].locked) {
      log(`${schema}: waiting for another migration run to finish`);
      await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
    try {
      // Under the lock: concurrent `CREATE ... IF NOT EXISTS` can still collide on the catalog.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(createHistoryTable(table));
      const history = await client.query<HistoryRow>(
        `SELECT migration_name, checksum, finished_at FROM ${table} WHERE rolled_back_at IS NULL ORDER BY started_at`,
      );
      const applied: string[] = [];
      for (const migration of pendingMigrations(schema, files, history.rows)) {
        await applyOne(client, schema, table, migration);
        applied.push(migration.name);
        log(`${schema}: applied ${migration.name}`);
      }
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch((error: Error) => {
        unlockFailed = error;
      });
    }
  } finally {
    // A connection that may still hold the lock must not go back to the pool: destroy it.
    client.release(unlockFailed);
  }
}

async function applyOne(client: pg.PoolClient, schema: string, table: string, migration: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    // Like `?schema=` for Prisma: unqualified names in hand-written SQL land in the service's schema.
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    // One query, never split on `;`: `$$`-quoted function bodies must stay whole.
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO ${table} (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`${schema}: migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Returns the migrations still to apply, or refuses when the database and the folder disagree. */
function pendingMigrations(schema: string, files: MigrationFile[], rows: HistoryRow[]): MigrationFile[] {
  const byName = new Map(files.map((file) => [file.name, file]));
  const done = new Set<string>();
  for (const row of rows) {
    const file = byName.get(row.migration_name);
    if (row.finished_at === null) {
      throw new Error(
        `${schema}: migration ${row.migration_name} is recorded as failed (started, never finished). Repair the database, then mark it rolled back or applied (prisma migrate resolve).`,
      );
    }
    if (!file) {
      throw new Error(`${schema}: migration ${row.migration_name} is applied in the database but missing from ${schema}'s migrations folder.`);
    }
    if (!checksumMatches(file, row.checksum)) {
      throw new Error(
        `${schema}: migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum} in the database, ${file.checksum} on disk). Restore the file; put changes in a new migration.`,
      );
    }
    done.add(row.migration_name);
  }
  return files.filter((file) => !done.has(file.name));
}

/** Prisma also accepts the checksum of the script with CRLF line endings (a Windows checkout). */
function checksumMatches(file: MigrationFile, checksum: string): boolean {
  if (file.checksum === checksum) return true;
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  return sha(file.sql.replace(/\r\n/g, '\n')) === checksum || sha(file.sql.replace(/\r?\n/g, '\r\n')) === checksum;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Prisma's own definition (schema engine, PostgreSQL flavour), so the native CLI reads this history. */
const createHistoryTable = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;
