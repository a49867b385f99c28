#!/usr/bin/env node
// Applies every service's pending Prisma migrations (prisma/<service>/migrations) to DATABASE_URL, each
// into its own PostgreSQL schema. Production and CI entry point (the k8s Job runs it); needs only `pg`
// and the built @latchkey/persistence, no Prisma engine. Safe to run from several places at once.
import pg from 'pg';
import { migrateAll } from '../libs/persistence/dist/index.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('db-migrate: DATABASE_URL is not set');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'latchkey-db-migrate' });
// An idle connection dropped by the server must not crash the process with an unhandled 'error' event.
pool.on('error', () => undefined);

let code = 0;
try {
  const results = await migrateAll(pool, (line) => console.log(line));
  const count = results.reduce((sum, { applied }) => sum + applied.length, 0);
  console.log(count ? `db-migrate: applied ${count} migration(s)` : 'db-migrate: database is up to date');
} catch (error) {
  console.error(`db-migrate: ${error instanceof Error ? error.message : String(error)}`);
  code = 1;
} finally {
  await pool.end().catch(() => undefined);
}
process.exit(code);
