import { IdentityHealth } from '@latchkey/contracts';
import { databaseHealthProvider, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { IdentityHandler } from './identity.handler.js';
import type { IdentityServiceOptions } from './identity.options.js';
import { IdentityDatabase } from './identity.prisma.js';
import { DEFAULT_PASSWORD_HASHING, PasswordHasher } from './users/password-hasher.js';
import { Users } from './users/users.js';

const IDENTITY_OPTIONS = Symbol('IDENTITY_OPTIONS');

@Injectable()
class IdentityReconciler implements OnModuleInit {
  constructor(
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityServiceOptions,
    @Inject(Users) private readonly users: Users,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const tenant of this.options.tenants.tenants) {
      for (const user of tenant.users) await this.users.upsertFromConfig(tenant.id, user);
    }
  }
}

/** The identity service: users per tenant and their passwords. */
@Module({})
export class IdentityModule {
  static forRoot(options: IdentityServiceOptions): DynamicModule {
    return {
      module: IdentityModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [IdentityHandler, healthHandlerFor(IdentityHealth)],
      providers: [
        { provide: IDENTITY_OPTIONS, useValue: options },
        { provide: IdentityDatabase, useFactory: () => new IdentityDatabase(options.database) },
        {
          provide: Users,
          inject: [IdentityDatabase],
          useFactory: (db: IdentityDatabase) => new Users(db, new PasswordHasher({ ...DEFAULT_PASSWORD_HASHING, ...options.passwordHashing })),
        },
        databaseHealthProvider('identity', IdentityDatabase),
        IdentityReconciler,
      ],
    };
  }
}
