import { DelegationHealth } from '@latchkey/contracts';
import { databaseHealthProvider, healthHandlerFor, MessagingModule, type MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import { type DynamicModule, Module } from '@nestjs/common';
import { DelegationDatabase } from './delegation.prisma.js';

export interface DelegationServiceOptions {
  database: DatabaseConfig;
  messaging: MessagingOptions;
}

/** The delegation service. Its domain arrives with its own issue; today it owns its schema and answers health. */
@Module({})
export class DelegationModule {
  static forRoot(options: DelegationServiceOptions): DynamicModule {
    return {
      module: DelegationModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [healthHandlerFor(DelegationHealth)],
      providers: [{ provide: DelegationDatabase, useFactory: () => new DelegationDatabase(options.database) }, databaseHealthProvider('delegation', DelegationDatabase)],
    };
  }
}
