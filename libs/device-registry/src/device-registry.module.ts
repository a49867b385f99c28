import { TenantDirectory } from '@latchkey/config';
import { DeviceHealth } from '@latchkey/contracts';
import { ContractClient, databaseHealthProvider, EventStream, healthHandlerFor, MessagingModule, OutboxRelay } from '@latchkey/messaging';
import { PgOutboxStore } from '@latchkey/persistence';
import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { DeviceAuthentication } from './authentication/device-authentication.js';
import { ClaimCodes, DEFAULT_CLAIM_CODE_TTL_SECONDS } from './claims/claim-codes.js';
import { ClaimThrottle, type ClaimThrottling, DEFAULT_CLAIM_THROTTLING } from './claims/claim-throttle.js';
import { type Clock, systemClock } from './clock.js';
import { Credentials } from './credentials/credentials.js';
import { DeviceRegistryHandler } from './device-registry.handler.js';
import type { DeviceRegistryOptions } from './device-registry.options.js';
import { DeviceDatabase } from './device-registry.prisma.js';
import { DeviceReconciler } from './devices/device-reconciler.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { DeviceStore } from './devices/device-store.js';
import { BulkProvisioning } from './provisioning/bulk-provisioning.js';
import { DevicePreparation } from './provisioning/device-preparation.js';

const DEVICE_OPTIONS = Symbol('DEVICE_OPTIONS');
const CLOCK = Symbol('DEVICE_CLOCK');
/** The table the relay publishes from (prisma/devices/schema.prisma, model OutboxEvent). */
export const DEVICE_OUTBOX_TABLE = 'devices.outbox_event';
const SWEEP_MS = 10 * 60_000;

/**
 * Starts the outbox relay and the config reconcile with the service, sweeps spent jtis and old claim
 * counters, and stops the relay before the event stream and the database close.
 */
@Injectable()
class DeviceLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly stop = new AbortController();
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(DEVICE_OPTIONS) private readonly options: DeviceRegistryOptions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DeviceStore) private readonly store: DeviceStore,
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(DeviceAuthentication) private readonly authentication: DeviceAuthentication,
    @Inject(ClaimThrottle) private readonly claimThrottle: ClaimThrottle,
  ) {}

  onApplicationBootstrap(): void {
    this.relay.start();
    void new DeviceReconciler(this.store, this.messaging, this.clock).reconcileWithRetry(this.options.tenants.tenants, this.stop.signal);
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => new Logger('DeviceLifecycle').warn(`sweep failed: ${String(error)}`));
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** Per tenant, so that every delete walks a (tenant, expiry) index. */
  async sweep(): Promise<void> {
    for (const { id } of this.options.tenants.tenants) {
      await this.authentication.sweep(id);
      await this.claimThrottle.sweep(id);
    }
  }

  /** Before the stream and the database close (their hooks run in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stop.abort();
    clearInterval(this.sweeper);
    await this.relay.stop();
  }
}

function throttlingOf(options: DeviceRegistryOptions): ClaimThrottling {
  const given = options.claimCodes?.throttling ?? {};
  return { perUser: { ...DEFAULT_CLAIM_THROTTLING.perUser, ...given.perUser }, perIp: { ...DEFAULT_CLAIM_THROTTLING.perIp, ...given.perIp } };
}

/**
 * The device registry: devices, their lifecycle, credentials, claim codes, bulk provisioning and
 * device authentication; every change audited and published through the transactional outbox.
 */
@Module({})
export class DeviceRegistryModule {
  static forRoot(options: DeviceRegistryOptions): DynamicModule {
    const clock = options.clock ?? systemClock;
    const tenants = new TenantDirectory(options.tenants);
    return {
      module: DeviceRegistryModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [DeviceRegistryHandler, healthHandlerFor(DeviceHealth)],
      providers: [
        { provide: DEVICE_OPTIONS, useValue: options },
        { provide: CLOCK, useValue: clock },
        { provide: DeviceDatabase, useFactory: () => new DeviceDatabase(options.database) },
        // The relay publishes what each change wrote to devices.outbox_event; DeviceStore kicks it after every commit.
        {
          provide: OutboxRelay,
          inject: [DeviceDatabase, EventStream],
          useFactory: (db: DeviceDatabase, stream: EventStream) => new OutboxRelay(new PgOutboxStore(db.pool, DEVICE_OUTBOX_TABLE), stream, options.outbox),
        },
        { provide: DeviceStore, inject: [DeviceDatabase, OutboxRelay], useFactory: (db: DeviceDatabase, relay: OutboxRelay) => new DeviceStore(db, relay) },
        { provide: ClaimThrottle, inject: [DeviceDatabase], useFactory: (db: DeviceDatabase) => new ClaimThrottle(db, throttlingOf(options), clock) },
        {
          provide: ClaimCodes,
          inject: [DeviceStore, ClaimThrottle],
          useFactory: (store: DeviceStore, throttle: ClaimThrottle) =>
            new ClaimCodes(store, tenants, throttle, options.publicUrl.replace(/\/+$/, ''), clock, options.claimCodes?.ttlSeconds ?? DEFAULT_CLAIM_CODE_TTL_SECONDS),
        },
        { provide: DevicePreparation, inject: [ClaimCodes], useFactory: (claimCodes: ClaimCodes) => new DevicePreparation(tenants, claimCodes, clock) },
        {
          provide: DeviceRegistry,
          inject: [DeviceStore, DevicePreparation],
          useFactory: (store: DeviceStore, preparation: DevicePreparation) => new DeviceRegistry(store, tenants, preparation, clock),
        },
        { provide: Credentials, inject: [DeviceStore], useFactory: (store: DeviceStore) => new Credentials(store, tenants, clock) },
        {
          provide: BulkProvisioning,
          inject: [DeviceStore, DevicePreparation],
          useFactory: (store: DeviceStore, preparation: DevicePreparation) => new BulkProvisioning(store, tenants, preparation),
        },
        {
          provide: DeviceAuthentication,
          inject: [DeviceDatabase],
          useFactory: (db: DeviceDatabase) => new DeviceAuthentication(db, tenants, clock, options.deviceAssertions),
        },
        databaseHealthProvider('device-registry', DeviceDatabase),
        DeviceLifecycle,
      ],
    };
  }
}
