import { TenantDirectory } from '@latchkey/config';
import { DelegationHealth } from '@latchkey/contracts';
import { ContractClient, databaseHealthProvider, EventStream, healthHandlerFor, MessagingModule, OutboxRelay } from '@latchkey/messaging';
import { PgOutboxStore } from '@latchkey/persistence';
import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { type Clock, systemClock } from './clock.js';
import { DelegationHandler } from './delegation.handler.js';
import type { DelegationServiceOptions } from './delegation.options.js';
import { DelegationDatabase } from './delegation.prisma.js';
import { DeviceEventsConsumer } from './grants/device-events.js';
import { DEFAULT_EXPIRY_BATCH, ExpirySweeper } from './grants/expiry-sweeper.js';
import { GrantStore } from './grants/grant-store.js';
import { GrantUsage } from './grants/grant-usage.js';
import { Grants } from './grants/grants.js';
import { Parties } from './grants/parties.js';
import { ResourceAuthority } from './grants/resource-authority.js';

const DELEGATION_OPTIONS = Symbol('DELEGATION_OPTIONS');
/** The table the relay publishes from (prisma/delegation/schema.prisma, model OutboxEvent). */
export const DELEGATION_OUTBOX_TABLE = 'delegation.outbox_event';
export const DEFAULT_EXPIRY_INTERVAL_MS = 5000;

/**
 * Starts the outbox relay, the device-event consumer and the expiry sweeper with the service, and
 * stops them before the event stream and the database close.
 */
@Injectable()
class DelegationLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DelegationLifecycle');
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    @Inject(DELEGATION_OPTIONS) private readonly options: DelegationServiceOptions,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(DeviceEventsConsumer) private readonly deviceEvents: DeviceEventsConsumer,
    @Inject(ExpirySweeper) private readonly expiry: ExpirySweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.relay.start();
    // Before the service answers: a grant on a device decommissioned from now on is ended.
    await this.deviceEvents.start();
    this.sweeper = setInterval(() => {
      // One sweep at a time per replica; another replica's sweep takes other grants (SKIP LOCKED).
      this.sweeping ??= this.expiry
        .sweep()
        .catch((error: unknown) => this.logger.warn(`expiry sweep failed: ${String(error)}`))
        .finally(() => (this.sweeping = undefined));
    }, this.options.expiry?.intervalMs ?? DEFAULT_EXPIRY_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Before the stream and the database close (their hooks run in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
    await this.deviceEvents.stop();
    await this.relay.stop();
  }
}

/**
 * The delegation service: user-to-user grants on devices and accounts, their chains of re-delegation,
 * their use by delegated tokens, and their end (revocation, decline, expiry, device events); every
 * change audited and published through the transactional outbox.
 */
@Module({})
export class DelegationModule {
  static forRoot(options: DelegationServiceOptions): DynamicModule {
    const clock: Clock = options.clock ?? systemClock;
    const tenants = new TenantDirectory(options.tenants);
    return {
      module: DelegationModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [DelegationHandler, healthHandlerFor(DelegationHealth)],
      providers: [
        { provide: DELEGATION_OPTIONS, useValue: options },
        { provide: DelegationDatabase, useFactory: () => new DelegationDatabase(options.database) },
        // The relay publishes what each change wrote to delegation.outbox_event; GrantStore kicks it after every commit that did.
        {
          provide: OutboxRelay,
          inject: [DelegationDatabase, EventStream],
          useFactory: (db: DelegationDatabase, stream: EventStream) => new OutboxRelay(new PgOutboxStore(db.pool, DELEGATION_OUTBOX_TABLE), stream, options.outbox),
        },
        { provide: GrantStore, inject: [DelegationDatabase, OutboxRelay], useFactory: (db: DelegationDatabase, relay: OutboxRelay) => new GrantStore(db.pool, relay) },
        { provide: Parties, inject: [ContractClient], useFactory: (messaging: ContractClient) => new Parties(messaging) },
        {
          provide: ResourceAuthority,
          inject: [ContractClient, GrantStore],
          useFactory: (messaging: ContractClient, store: GrantStore) => new ResourceAuthority(messaging, tenants, store),
        },
        {
          provide: Grants,
          inject: [GrantStore, Parties, ResourceAuthority],
          useFactory: (store: GrantStore, parties: Parties, authority: ResourceAuthority) => new Grants(store, tenants, parties, authority, clock),
        },
        { provide: GrantUsage, inject: [GrantStore], useFactory: (store: GrantStore) => new GrantUsage(store, tenants, clock) },
        {
          provide: ExpirySweeper,
          inject: [GrantStore],
          useFactory: (store: GrantStore) => new ExpirySweeper(store, tenants, clock, options.expiry?.batchSize ?? DEFAULT_EXPIRY_BATCH),
        },
        {
          provide: DeviceEventsConsumer,
          inject: [EventStream, GrantStore],
          useFactory: (stream: EventStream, store: GrantStore) => new DeviceEventsConsumer(stream, store, clock),
        },
        databaseHealthProvider('delegation', DelegationDatabase),
        DelegationLifecycle,
      ],
    };
  }
}
