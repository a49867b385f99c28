import { type DatabaseConfig, ServiceDatabase } from '@latchkey/persistence';
import { PrismaClient } from './generated/prisma/client.js';

/** The token service's own database: schema `token`, nobody else's. */
export class TokenDatabase extends ServiceDatabase<PrismaClient> {
  constructor(config: DatabaseConfig) {
    super(config, 'latchkey-token', (options) => new PrismaClient(options));
  }
}
