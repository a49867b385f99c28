// Starts one PostgreSQL for the whole test run, unless LATCHKEY_TEST_DATABASE_URL names one; each test
// file makes its own database in it. NATS is NOT shared: services booted by two test files on one
// server would answer each other's requests, so each file starts its own nats-server (cheap).
import { startPostgres } from '../infra/local-infra.mjs';
import { ensureNats, ensurePostgres } from '../infra/ensure-tools.mjs';

export default async function globalSetup() {
  ensureNats();
  const started = [];
  if (!process.env.LATCHKEY_TEST_DATABASE_URL) {
    ensurePostgres();
    const pg = await startPostgres();
    process.env.LATCHKEY_TEST_DATABASE_URL = pg.url;
    started.push(pg);
  }
  globalThis.__LATCHKEY_INFRA__ = started;
}
