import type { PrismaPg } from '@prisma/adapter-pg';
import { type DatabaseConfig, type DatabaseHandle, openDatabase, probeDatabase } from './database.js';

interface PrismaLike {
  $disconnect(): Promise<void>;
}

/**
 * A service's own database: its generated Prisma client over its pool. Closed by Nest at shutdown
 * (the hook is found on the provider instance).
 */
export class ServiceDatabase<P extends PrismaLike> {
  readonly prisma: P;
  private readonly handle: DatabaseHandle;

  constructor(config: DatabaseConfig, applicationName: string, createClient: (adapter: PrismaPg) => P) {
    this.handle = openDatabase(config, applicationName);
    this.prisma = createClient(this.handle.adapter);
  }

  probe() {
    return probeDatabase(this.handle.pool);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
    await this.handle.close();
  }
}
