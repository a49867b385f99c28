import { DeviceHealth } from '@latchkey/contracts';
import { ContractClient, databaseHealthProvider, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DeviceRegistryOptions } from './device-registry.options.js';
import { DeviceDatabase } from './device-registry.prisma.js';
import { DeviceReconciler } from './devices/device-reconciler.js';

const DEVICE_OPTIONS = Symbol('DEVICE_OPTIONS');

@Injectable()
class DeviceLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly stop = new AbortController();

  constructor(
    @Inject(DEVICE_OPTIONS) private readonly options: DeviceRegistryOptions,
    @Inject(DeviceDatabase) private readonly db: DeviceDatabase,
    @Inject(ContractClient) private readonly messaging: ContractClient,
  ) {}

  onApplicationBootstrap(): void {
    void new DeviceReconciler(this.db, this.messaging).reconcileWithRetry(this.options.tenants.tenants, this.stop.signal);
  }

  onApplicationShutdown(): void {
    this.stop.abort();
  }
}

/** The device registry: devices, their lifecycle and credentials. */
@Module({})
export class DeviceRegistryModule {
  static forRoot(options: DeviceRegistryOptions): DynamicModule {
    return {
      module: DeviceRegistryModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [healthHandlerFor(DeviceHealth)],
      providers: [
        { provide: DEVICE_OPTIONS, useValue: options },
        { provide: DeviceDatabase, useFactory: () => new DeviceDatabase(options.database) },
        databaseHealthProvider('device-registry', DeviceDatabase),
        DeviceLifecycle,
      ],
    };
  }
}
