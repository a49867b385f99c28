import type { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { type DatabaseConfig, type DatabaseHandle, openDatabase, probeDatabase } from './database.js';

export interface PrismaClientOptions {
  adapter: PrismaPg;
  transactionOptions: { maxWait: number; timeout: number };
}

/**
 * Prisma waits at most 2 s for a connection to start an interactive transaction. On a busy small
 * machine (or the all-in-one process's single shared connection) a burst of short transactions can
 * queue longer than that; failing the request then is worse than waiting a little.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

interface PrismaLike {
  $disconnect(): Promise<void>;
}

const open = new Set<{ name: string; pool: pg.Pool }>();

/** The pools of the databases open in this process, by application name (read by the pool metrics). */
export function openDatabasePools(): Iterable<{ name: string; pool: pg.Pool }> {
  return open;
}

/**
 * A service's own database: its generated Prisma client over its pool. Closed by Nest at shutdown
 * (the hook is found on the provider instance).
 */
export class ServiceDatabase<P extends PrismaLike> {
  readonly prisma: P;
  private readonly handle: DatabaseHandle;
  private readonly entry: { name: string; pool: pg.Pool };

  constructor(config: DatabaseConfig, applicationName: string, createClient: (options: PrismaClientOptions) => P) {
    this.handle = openDatabase(config, applicationName);
    this.prisma = createClient({ adapter: this.handle.adapter, transactionOptions: TRANSACTION_OPTIONS });
    this.entry = { name: applicationName, pool: this.handle.pool };
    open.add(this.entry);
  }

  /** The pool under the Prisma client, for what Prisma does not do (e.g. `PgOutboxStore`'s advisory locks). */
  get pool(): pg.Pool {
    return this.handle.pool;
  }

  probe() {
    return probeDatabase(this.handle.pool);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    open.delete(this.entry);
    await this.prisma.$disconnect();
    await this.handle.close();
  }
}
