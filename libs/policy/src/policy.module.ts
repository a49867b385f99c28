import { PolicyHealth } from '@latchkey/contracts';
import { databaseHealthProvider, EventStream, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { type Clock, systemClock } from './clock.js';
import { DecisionLog } from './decisions/decision-log.js';
import { DecisionPoint } from './decisions/decision-point.js';
import { defaultBundle } from './default-bundle/default-bundle.js';
import { PolicyHandler } from './policy.handler.js';
import type { PolicyServiceOptions } from './policy.options.js';
import { PolicyDatabase } from './policy.prisma.js';
import { ActivationSignals } from './tenants/activation-signals.js';
import { PolicyStore } from './tenants/policy-store.js';
import { TenantPolicies } from './tenants/tenant-policies.js';
import { describeThrown } from './wasm/compiled-policy.js';

const POLICY_OPTIONS = Symbol('POLICY_OPTIONS');
const CLOCK = Symbol('POLICY_CLOCK');
const DEFAULT_RELOAD_INTERVAL_MS = 5000;
const logger = new Logger('PolicyLifecycle');

/**
 * Loads every tenant's policy before the service answers, listens for activations made by other
 * replicas, checks the stored versions periodically, and flushes the decision log before the event
 * stream closes.
 */
@Injectable()
class PolicyLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly signals: ActivationSignals;
  private checker?: NodeJS.Timeout;

  constructor(
    @Inject(POLICY_OPTIONS) private readonly options: PolicyServiceOptions,
    @Inject(TenantPolicies) private readonly policies: TenantPolicies,
    @Inject(DecisionLog) private readonly log: DecisionLog,
  ) {
    this.signals = new ActivationSignals(options.messaging.transport, (tenant) => {
      this.policies.refresh(tenant).catch((error: unknown) => logger.warn(`tenant ${tenant}: reload after an activation failed: ${describeThrown(error)}`));
    });
  }

  async onModuleInit(): Promise<void> {
    await this.policies.load();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.signals.start();
    this.checker = setInterval(() => {
      this.policies.refreshChanged().catch((error: unknown) => logger.warn(`periodic policy version check failed: ${describeThrown(error)}`));
    }, this.options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS);
    this.checker.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.checker);
    await this.signals.stop();
    await this.log.close();
  }
}

/**
 * The policy decision point (ARCHITECTURE flow 5): OPA policies compiled to Wasm, per tenant, with
 * hot activation and a decision log on JetStream. docs/adr/0022-policy-bundles.md.
 */
@Module({})
export class PolicyModule {
  static forRoot(options: PolicyServiceOptions): DynamicModule {
    const clock: Clock = options.clock ?? systemClock;
    return {
      module: PolicyModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [PolicyHandler, healthHandlerFor(PolicyHealth)],
      providers: [
        { provide: POLICY_OPTIONS, useValue: options },
        { provide: CLOCK, useValue: clock },
        { provide: PolicyDatabase, useFactory: () => new PolicyDatabase(options.database) },
        { provide: PolicyStore, inject: [PolicyDatabase], useFactory: (db: PolicyDatabase) => new PolicyStore(db) },
        {
          provide: TenantPolicies,
          inject: [PolicyStore, EventStream],
          useFactory: (store: PolicyStore, events: EventStream) => new TenantPolicies(options.tenants, store, events, options.defaultBundle ?? defaultBundle(), clock),
        },
        { provide: DecisionLog, inject: [EventStream], useFactory: (events: EventStream) => new DecisionLog(events, options.decisionLog) },
        {
          provide: DecisionPoint,
          inject: [TenantPolicies, DecisionLog],
          useFactory: (policies: TenantPolicies, log: DecisionLog) => new DecisionPoint(policies, log, clock),
        },
        databaseHealthProvider('policy', PolicyDatabase),
        PolicyLifecycle,
      ],
    };
  }
}
