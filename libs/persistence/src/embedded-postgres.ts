import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

export interface EmbeddedPostgres {
  /** The ONE pool every service of the all-in-one process shares (PGlite has a single session). */
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

/**
 * PostgreSQL for the all-in-one process: PGlite (WASM Postgres) with its data in a local directory,
 * served on loopback so the ordinary pg driver and Prisma adapter work unchanged. See
 * docs/adr/0005-embedded-mode.md for why every service shares one single-connection pool.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  // maxConnections 2: a reconnect after a dropped socket must not be refused while the old one closes.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  const address = server.getServerConn();
  const port = Number(address.split(':').pop());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  return {
    pool,
    url,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}
