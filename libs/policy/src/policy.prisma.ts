import { type DatabaseConfig, ServiceDatabase } from '@latchkey/persistence';
import { PrismaClient } from './generated/prisma/client.js';

/** The policy service's own database: schema `policy`. */
export class PolicyDatabase extends ServiceDatabase<PrismaClient> {
  constructor(config: DatabaseConfig) {
    super(config, 'latchkey-policy', (options) => new PrismaClient(options));
  }
}
