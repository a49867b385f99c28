import { IdentityHealth } from '@latchkey/contracts';
import { databaseHealthProvider, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Clock, systemClock } from './clock.js';
import { IdentityHandler } from './identity.handler.js';
import type { IdentityServiceOptions } from './identity.options.js';
import { IdentityDatabase } from './identity.prisma.js';
import { DEFAULT_LOGIN_THROTTLING, LoginThrottle, type LoginThrottling } from './login/login-throttle.js';
import { PasswordLogin } from './login/password-login.js';
import { PrismaThrottleStore } from './login/throttle-store.prisma.js';
import { OtpCredentials } from './otp/otp-credentials.js';
import { DEFAULT_SESSION_POLICY, Sessions } from './sessions/sessions.js';
import { TenantDirectory } from '@latchkey/config';
import { DEFAULT_PASSWORD_HASHING, PasswordHasher } from './users/password-hasher.js';
import { Users } from './users/users.js';

const IDENTITY_OPTIONS = Symbol('IDENTITY_OPTIONS');
const CLOCK = Symbol('IDENTITY_CLOCK');
const SWEEP_MS = 10 * 60_000;

@Injectable()
class IdentityLifecycle implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityServiceOptions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(Users) private readonly users: Users,
    @Inject(PasswordLogin) private readonly login: PasswordLogin,
    @Inject(Sessions) private readonly sessions: Sessions,
    @Inject(PrismaThrottleStore) private readonly throttleStore: PrismaThrottleStore,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const tenant of this.options.tenants.tenants) {
      for (const user of tenant.users) await this.users.upsertFromConfig(tenant.id, user);
    }
    await this.login.warmUp();
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => new Logger('IdentityLifecycle').warn(`sweep failed: ${String(error)}`));
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** Expired sessions and counters that no longer matter. */
  async sweep(): Promise<void> {
    await this.sessions.sweepExpired();
    await this.throttleStore.sweep(this.clock(), this.throttle.longestWindowMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

function throttlingOf(options: IdentityServiceOptions): LoginThrottling {
  const o = options.throttling ?? {};
  return {
    account: { ...DEFAULT_LOGIN_THROTTLING.account, ...o.account },
    otp: { ...DEFAULT_LOGIN_THROTTLING.otp, ...o.otp },
    ip: { ...DEFAULT_LOGIN_THROTTLING.ip, ...o.ip },
  };
}

/** The identity service: users per tenant, sign-in with throttling, TOTP, sessions. */
@Module({})
export class IdentityModule {
  static forRoot(options: IdentityServiceOptions): DynamicModule {
    const clock = options.clock ?? systemClock;
    const passwords = new PasswordHasher({ ...DEFAULT_PASSWORD_HASHING, ...options.passwordHashing });
    return {
      module: IdentityModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [IdentityHandler, healthHandlerFor(IdentityHealth)],
      providers: [
        { provide: IDENTITY_OPTIONS, useValue: options },
        { provide: CLOCK, useValue: clock },
        { provide: TenantDirectory, useFactory: () => new TenantDirectory(options.tenants) },
        { provide: IdentityDatabase, useFactory: () => new IdentityDatabase(options.database) },
        { provide: Users, inject: [IdentityDatabase], useFactory: (db: IdentityDatabase) => new Users(db, passwords) },
        { provide: PrismaThrottleStore, inject: [IdentityDatabase], useFactory: (db: IdentityDatabase) => new PrismaThrottleStore(db) },
        {
          provide: LoginThrottle,
          inject: [PrismaThrottleStore],
          useFactory: (store: PrismaThrottleStore) => new LoginThrottle(store, throttlingOf(options), clock),
        },
        {
          provide: OtpCredentials,
          inject: [IdentityDatabase, TenantDirectory, LoginThrottle],
          useFactory: (db: IdentityDatabase, tenants: TenantDirectory, throttle: LoginThrottle) => new OtpCredentials(db, tenants, options.keyEncryption, throttle, clock),
        },
        {
          provide: PasswordLogin,
          inject: [Users, LoginThrottle, OtpCredentials],
          useFactory: (users: Users, throttle: LoginThrottle, otp: OtpCredentials) => new PasswordLogin(users, passwords, throttle, otp, clock),
        },
        {
          provide: Sessions,
          inject: [IdentityDatabase],
          useFactory: (db: IdentityDatabase) => new Sessions(db, { ...DEFAULT_SESSION_POLICY, ...options.sessions }, clock),
        },
        databaseHealthProvider('identity', IdentityDatabase),
        IdentityLifecycle,
      ],
    };
  }
}
