import { type DatabaseConfig, ServiceDatabase } from '@latchkey/persistence';
import { PrismaClient } from './generated/prisma/client.js';

/** The identity service's own database: schema `identity`. */
export class IdentityDatabase extends ServiceDatabase<PrismaClient> {
  constructor(config: DatabaseConfig) {
    super(config, 'latchkey-identity', (options) => new PrismaClient(options));
  }
}
