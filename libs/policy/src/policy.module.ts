import { PolicyHealth } from '@latchkey/contracts';
import { databaseHealthProvider, healthHandlerFor, MessagingModule, type MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import { type DynamicModule, Module } from '@nestjs/common';
import { PolicyDatabase } from './policy.prisma.js';

export interface PolicyServiceOptions {
  database: DatabaseConfig;
  messaging: MessagingOptions;
}

/** The policy service. Its domain arrives with its own issue; today it owns its schema and answers health. */
@Module({})
export class PolicyModule {
  static forRoot(options: PolicyServiceOptions): DynamicModule {
    return {
      module: PolicyModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [healthHandlerFor(PolicyHealth)],
      providers: [{ provide: PolicyDatabase, useFactory: () => new PolicyDatabase(options.database) }, databaseHealthProvider('policy', PolicyDatabase)],
    };
  }
}
