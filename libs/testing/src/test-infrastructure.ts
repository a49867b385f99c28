import { randomBytes } from 'node:crypto';
import { migrateAll } from '@latchkey/persistence';
import pg from 'pg';

/** The PostgreSQL server the jest global setup started (tools/jest/global-setup.mjs). */
export function testInfrastructure(): { adminDatabaseUrl: string } {
  const adminDatabaseUrl = process.env.LATCHKEY_TEST_DATABASE_URL;
  if (!adminDatabaseUrl) throw new Error('run tests through `npm test`: the global setup provides PostgreSQL');
  return { adminDatabaseUrl };
}

/** A nats-server of this test file's own (see the global setup for why NATS is not shared). */
export async function startTestNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const { startNats } = await import('../../../tools/infra/local-infra.mjs');
  return startNats();
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, with every service's migrations applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { adminDatabaseUrl } = testInfrastructure();
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  try {
    await migrateAll(pool);
  } finally {
    await pool.end();
  }
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
