import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

/**
 * How a service reaches PostgreSQL: its own pool from a URL (distributed mode), or a pool handed to it
 * (the all-in-one process shares ONE single-connection pool over PGlite between all services, because
 * PGlite has one session; see docs/adr/0005-embedded-mode.md).
 */
export type DatabaseConfig = { kind: 'url'; url: string; poolSize: number } | { kind: 'shared-pool'; pool: pg.Pool };

export interface DatabaseHandle {
  readonly pool: pg.Pool;
  readonly adapter: PrismaPg;
  /** Ends the pool when this handle created it; a shared pool is ended by its owner. */
  close(): Promise<void>;
}

export function openDatabase(config: DatabaseConfig, applicationName: string): DatabaseHandle {
  const owned = config.kind === 'url';
  const pool =
    config.kind === 'url'
      ? new pg.Pool({ connectionString: config.url, max: config.poolSize, application_name: applicationName, allowExitOnIdle: true })
      : config.pool;
  // A pool error (e.g. the server restarting) must not crash the process: the next query reconnects.
  if (owned) pool.on('error', () => undefined);
  const adapter = new PrismaPg(pool, { disposeExternalPool: false });
  return {
    pool,
    adapter,
    async close() {
      if (owned) await pool.end();
    },
  };
}

/** Times a trivial query: the database part of a service's health. */
export async function probeDatabase(pool: pg.Pool): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  try {
    await pool.query('SELECT 1');
    return { ok: true, latencyMs: round(performance.now() - started) };
  } catch (error) {
    return { ok: false, latencyMs: round(performance.now() - started), error: (error as { code?: string }).code ?? 'unreachable' };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
