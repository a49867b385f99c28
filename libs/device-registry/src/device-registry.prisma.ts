import { type DatabaseConfig, ServiceDatabase } from '@latchkey/persistence';
import { PrismaClient } from './generated/prisma/client.js';

/** The device registry's own database: schema `devices`. */
export class DeviceDatabase extends ServiceDatabase<PrismaClient> {
  constructor(config: DatabaseConfig) {
    super(config, 'latchkey-device-registry', (options) => new PrismaClient(options));
  }
}
