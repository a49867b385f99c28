import { type DatabaseConfig, ServiceDatabase } from '@latchkey/persistence';
import { PrismaClient } from './generated/prisma/client.js';

/** The delegation service's own database: schema `delegation`. */
export class DelegationDatabase extends ServiceDatabase<PrismaClient> {
  constructor(config: DatabaseConfig) {
    super(config, 'latchkey-delegation', (options) => new PrismaClient(options));
  }
}
