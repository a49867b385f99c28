import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { applyMigrations, defaultPrismaRoot, migrateAll, readMigrations, SERVICE_SCHEMAS } from './index.js';

const serverUrl = process.env.LATCHKEY_TEST_DATABASE_URL as string;
const prismaRoot = defaultPrismaRoot();
const repoRoot = join(prismaRoot, '..');
const run = promisify(execFile);

/** The offline-workflow helpers of scripts/prisma-migrate.mjs (plain JS, loaded at run time). */
interface PrismaMigrate {
  diffMigrationsToSchema(schemaDir: string, serverUrl: string): Promise<string>;
  diffDatabaseToSchema(schemaDir: string, databaseUrl: string): Promise<string>;
  diagnoseMigrationHistory(
    schemaDir: string,
    databaseUrl: string,
  ): Promise<{ hasMigrationsTable: boolean; history: unknown; editedMigrationNames: string[]; failedMigrationNames: string[] }>;
}

const admin = new pg.Client({ connectionString: serverUrl });
const databases: string[] = [];
const pools: pg.Pool[] = [];
const tempDirs: string[] = [];

function urlOf(database: string, schema?: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (schema) url.searchParams.set('schema', schema);
  return url.toString();
}

async function createDatabase(): Promise<string> {
  const name = `migrations_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE "${name}"`);
  databases.push(name);
  return name;
}

function poolFor(database: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: urlOf(database), max: 2 });
  pools.push(pool);
  return pool;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-migrations-'));
  tempDirs.push(dir);
  return dir;
}

/** A migrations folder in Prisma's layout from `{ name: sql }`. */
function migrationsFolder(migrations: Record<string, string>): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

/** Table names a schema.prisma maps its models to. */
function mappedTables(prismaDir: string): string[] {
  const schema = readFileSync(join(prismaRoot, prismaDir, 'schema.prisma'), 'utf8');
  return [...schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)].map(([, model, body]) => /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? model).sort();
}

async function tablesIn(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> '_prisma_migrations' ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.table_name);
}

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('migrateAll', () => {
  let database: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createDatabase();
    pool = poolFor(database);
  });

  it('applies every migration of every service and creates every mapped table', async () => {
    const lines: string[] = [];
    const results = await migrateAll(pool, (line) => lines.push(line));

    expect(results.map((r) => r.schema)).toEqual(SERVICE_SCHEMAS.map((s) => s.schema));
    for (const { schema, prismaDir } of SERVICE_SCHEMAS) {
      const onDisk = readMigrations(join(prismaRoot, prismaDir, 'migrations'));
      expect(onDisk.length).toBeGreaterThan(0);
      expect(results.find((r) => r.schema === schema)?.applied).toEqual(onDisk.map((m) => m.name));
      expect(await tablesIn(pool, schema)).toEqual(mappedTables(prismaDir));
    }
    expect(lines).toHaveLength(results.flatMap((r) => r.applied).length);
  });

  it('records the history in Prisma format: sha256 of migration.sql, finished, one step', async () => {
    const { rows } = await pool.query('SELECT * FROM "token"."_prisma_migrations" ORDER BY started_at');
    const onDisk = readMigrations(join(prismaRoot, 'token', 'migrations'));
    expect(rows.map((row) => row.migration_name)).toEqual(onDisk.map((m) => m.name));
    for (const row of rows) {
      const file = readFileSync(join(prismaRoot, 'token', 'migrations', row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('applies nothing when run again', async () => {
    const results = await migrateAll(pool);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });

  it('refuses when an applied migration was edited', async () => {
    const { rows } = await pool.query<{ id: string; checksum: string }>('SELECT id, checksum FROM "identity"."_prisma_migrations" LIMIT 1');
    await pool.query(`UPDATE "identity"."_prisma_migrations" SET checksum = $1 WHERE id = $2`, ['0'.repeat(64), rows[0].id]);
    try {
      await expect(migrateAll(pool)).rejects.toThrow(/identity: migration \S+ was modified after it was applied/);
    } finally {
      await pool.query(`UPDATE "identity"."_prisma_migrations" SET checksum = $1 WHERE id = $2`, [rows[0].checksum, rows[0].id]);
    }
  });

  it('refuses when the database has a migration the folder lacks', async () => {
    await pool.query(
      `INSERT INTO "policy"."_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000000', $1, '29991231000000_from_another_branch', now(), 1)`,
      ['0'.repeat(64)],
    );
    try {
      await expect(migrateAll(pool)).rejects.toThrow(/policy: migration 29991231000000_from_another_branch is applied in the database but missing/);
    } finally {
      await pool.query(`DELETE FROM "policy"."_prisma_migrations" WHERE id = '00000000-0000-4000-8000-000000000000'`);
    }
  });

  it('leaves a database that agrees with every schema.prisma (Prisma schema engine diff)', async () => {
    const tool = await prismaMigrate();
    for (const { prismaDir } of SERVICE_SCHEMAS) {
      expect(await tool.diffDatabaseToSchema(join(prismaRoot, prismaDir), urlOf(database))).toBe('');
    }
    // ...and the comparison does see a difference.
    await pool.query('ALTER TABLE "identity"."user" ADD COLUMN stray int');
    try {
      expect(await tool.diffDatabaseToSchema(join(prismaRoot, 'identity'), urlOf(database))).toContain('DROP COLUMN "stray"');
    } finally {
      await pool.query('ALTER TABLE "identity"."user" DROP COLUMN stray');
    }
  });

  it("leaves a history Prisma's own engine reads as applied and unedited (migrate status)", async () => {
    const tool = await prismaMigrate();
    for (const { schema, prismaDir } of SERVICE_SCHEMAS) {
      const diagnostic = await tool.diagnoseMigrationHistory(join(prismaRoot, prismaDir), urlOf(database, schema));
      expect(diagnostic).toMatchObject({ hasMigrationsTable: true, history: null, editedMigrationNames: [], failedMigrationNames: [] });
    }
  });
});

describe('applyMigrations', () => {
  it('lets concurrent runners apply each migration exactly once', async () => {
    const database = await createDatabase();
    // Slow migrations keep the runners overlapping; six pools are six independent replicas.
    const dir = migrationsFolder(
      Object.fromEntries(
        [1, 2, 3].map((i) => [`2026010100000${i}_step_${i}`, `CREATE TABLE step_${i} (id int);\nSELECT pg_sleep(0.2);\nINSERT INTO step_${i} VALUES (${i});`]),
      ),
    );
    const lines: string[] = [];
    const runners = Array.from({ length: 6 }, () => applyMigrations({ pool: poolFor(database), schema: 'race', migrationsDir: dir, log: (line) => lines.push(line) }));
    const results = await Promise.all(runners);
    expect(lines).toContain('race: waiting for another migration run to finish');
    const services = Array.from({ length: 3 }, () => migrateAll(poolFor(database)));
    const all = await Promise.all(services);

    expect(results.flatMap((r) => r.applied).sort()).toEqual(['20260101000001_step_1', '20260101000002_step_2', '20260101000003_step_3']);
    expect(all.flat().flatMap((r) => r.applied)).toHaveLength(readAllMigrationCount());
    const pool = poolFor(database);
    const { rows } = await pool.query('SELECT migration_name, count(*)::int AS n FROM race._prisma_migrations GROUP BY 1 ORDER BY 1');
    expect(rows).toEqual([1, 2, 3].map((i) => ({ migration_name: `2026010100000${i}_step_${i}`, n: 1 })));
    expect((await pool.query('SELECT * FROM race.step_1')).rows).toEqual([{ id: 1 }]);
  });

  it('runs a script as one query (dollar-quoted bodies) with unqualified names in the schema', async () => {
    const database = await createDatabase();
    const pool = poolFor(database);
    const dir = migrationsFolder({
      '20260101000000_fn': `CREATE TABLE item (n int);
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.n := NEW.n + 1;
  RETURN NEW;
END;
$$;
CREATE TRIGGER item_bump BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION bump();`,
    });
    await applyMigrations({ pool, schema: 'plain', migrationsDir: dir });
    await pool.query('INSERT INTO plain.item VALUES (1)');
    expect((await pool.query('SELECT n FROM plain.item')).rows).toEqual([{ n: 2 }]);
  });

  it('rolls a failed migration back entirely and records nothing', async () => {
    const database = await createDatabase();
    const pool = poolFor(database);
    const dir = migrationsFolder({
      '20260101000000_ok': 'CREATE TABLE kept (id int);',
      '20260101000001_broken': 'CREATE TABLE half (id int);\nSELECT no_such_function();',
    });
    await expect(applyMigrations({ pool, schema: 'partial', migrationsDir: dir })).rejects.toThrow(/partial: migration 20260101000001_broken failed: .*no_such_function/);
    expect(await tablesIn(pool, 'partial')).toEqual(['kept']);
    const { rows } = await pool.query('SELECT migration_name FROM partial._prisma_migrations');
    expect(rows).toEqual([{ migration_name: '20260101000000_ok' }]);
  });

  it('works over PGlite served by pglite-socket on a single connection', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create();
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1 });
    try {
      const first = await migrateAll(pool);
      expect(first.every((r) => r.applied.length > 0)).toBe(true);
      expect((await migrateAll(pool)).flatMap((r) => r.applied)).toEqual([]);
      for (const { schema, prismaDir } of SERVICE_SCHEMAS) expect(await tablesIn(pool, schema)).toEqual(mappedTables(prismaDir));
    } finally {
      await pool.end();
      await server.stop();
      await db.close();
    }
  }, 60_000);
});

describe('scripts/prisma-migrate.mjs check', () => {
  const env = { ...process.env, PRISMA_MIGRATE_SERVER_URL: serverUrl };

  it('finds the migrations of every schema folder in agreement with schema.prisma', async () => {
    const { stdout } = await run(process.execPath, ['scripts/prisma-migrate.mjs', 'check'], { cwd: repoRoot, env });
    for (const { prismaDir } of SERVICE_SCHEMAS) expect(stdout).toContain(`ok prisma/${prismaDir}`);
  });

  it('fails with the missing SQL when schema.prisma gained a column', async () => {
    const dir = join(tempDir(), 'identity');
    cpSync(join(prismaRoot, 'identity'), dir, { recursive: true });
    const schemaFile = join(dir, 'schema.prisma');
    writeFileSync(schemaFile, readFileSync(schemaFile, 'utf8').replace('  email        String?\n', '  email        String?\n  phone        String?\n'));

    const failure = await run(process.execPath, ['scripts/prisma-migrate.mjs', 'check', dir], { cwd: repoRoot, env }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toContain('ALTER TABLE "identity"."user" ADD COLUMN     "phone" TEXT;');

    const tool = await prismaMigrate();
    expect(await tool.diffMigrationsToSchema(dir, serverUrl)).toContain('ADD COLUMN');
  });
});

let tool: Promise<PrismaMigrate> | undefined;
function prismaMigrate(): Promise<PrismaMigrate> {
  tool ??= import(pathToFileURL(join(repoRoot, 'scripts', 'prisma-migrate.mjs')).href) as Promise<PrismaMigrate>;
  return tool;
}

function readAllMigrationCount(): number {
  return SERVICE_SCHEMAS.reduce((sum, { prismaDir }) => sum + readMigrations(join(prismaRoot, prismaDir, 'migrations')).length, 0);
}
