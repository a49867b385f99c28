// Starts one PostgreSQL and one NATS server for the whole test run, unless the environment already
// names them (LATCHKEY_TEST_DATABASE_URL, LATCHKEY_TEST_NATS_URL). Workers inherit the URLs.
import { startNats, startPostgres } from '../infra/local-infra.mjs';
import { ensureNats, ensurePostgres } from '../infra/ensure-tools.mjs';

export default async function globalSetup() {
  const started = [];
  if (!process.env.LATCHKEY_TEST_DATABASE_URL) {
    ensurePostgres();
    const pg = await startPostgres();
    process.env.LATCHKEY_TEST_DATABASE_URL = pg.url;
    started.push(pg);
  }
  if (!process.env.LATCHKEY_TEST_NATS_URL) {
    ensureNats();
    const nats = await startNats();
    process.env.LATCHKEY_TEST_NATS_URL = nats.url;
    started.push(nats);
  }
  globalThis.__LATCHKEY_INFRA__ = started;
}
