import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { defaultPrismaRoot, migrateAll, requiredMigrationOf, waitForSchema } from './index.js';

const serverUrl = process.env.LATCHKEY_TEST_DATABASE_URL as string;
const admin = new pg.Client({ connectionString: serverUrl });
let database: string;
let url: string;

beforeAll(async () => {
  await admin.connect();
  database = `schema_wait_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE "${database}"`);
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${database}`;
  url = parsed.toString();
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
});

describe('services wait for their schema version', () => {
  it('case=should know each service schema and the newest migration of this build', () => {
    const folders = readdirSync(join(defaultPrismaRoot(), 'token', 'migrations'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(requiredMigrationOf('token')).toEqual({ schema: 'token', migration: folders.map((entry) => entry.name).sort().at(-1) });
    expect(requiredMigrationOf('device-registry')?.schema).toBe('devices');
    expect(requiredMigrationOf('gateway')).toBeUndefined();
  });

  it('case=should give up after the timeout on an unmigrated database, naming the missing migration', async () => {
    const required = requiredMigrationOf('token')!;
    const lines: string[] = [];
    await expect(waitForSchema({ url, required, timeoutMs: 600, intervalMs: 100, log: (line) => lines.push(line) })).rejects.toThrow(
      `schema "token" does not have migration ${required.migration} after 1 s (no migration history yet)`,
    );
    expect(lines[0]).toMatch(/^waiting for migration \S+ in schema "token"/);
  });

  it('case=should start as soon as the migration Job has applied the migrations, and at once when they are in', async () => {
    const required = requiredMigrationOf('delegation')!;
    const lines: string[] = [];
    const waiting = waitForSchema({ url, required, timeoutMs: 60_000, intervalMs: 100, log: (line) => lines.push(line) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrateAll(pool);
    } finally {
      await pool.end();
    }
    expect((await waiting).waitedMs).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(/^schema "delegation" has migration/);
    expect(await waitForSchema({ url, required, timeoutMs: 1000 })).toEqual({ waitedMs: 0 });
  });

  it('case=should not start on a schema that lacks a newer migration of this build (old schema, new code)', async () => {
    const required = { schema: 'token', migration: '29991231235959_from_the_future' };
    await expect(waitForSchema({ url, required, timeoutMs: 300, intervalMs: 100 })).rejects.toThrow(/\(not applied yet\)/);
  });
});
