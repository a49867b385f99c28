import { PolicyActivated } from '@latchkey/contracts';
import { DurableSubscription, type EventStream, NATS_CONNECTION, type TransportConfig } from '@latchkey/messaging';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';

/** The all-in-one process's durable consumer of policy activations (a single replica there). */
export const POLICY_ACTIVATIONS_DURABLE = 'token-policy-activations';

/**
 * Clears a tenant's cached scope decisions as soon as its policy changes (docs/adr/0023), on every
 * replica: a durable JetStream consumer is shared by the replicas that use its name (each event would
 * reach one of them), so on NATS each replica listens with a plain subscription of its own (no queue
 * group), as the policy service's replicas do; JetStream's publication reaches every live subscriber.
 * A replica that misses an event (disconnected at that moment) still stops reusing the old decisions
 * when they expire (their `ttlSeconds`). The all-in-one process, a single replica on the in-memory
 * event stream, uses a durable consumer.
 */
export class PolicyActivationFeed {
  private readonly logger = new Logger('PolicyActivationFeed');
  private connection?: NatsConnection;
  private loop?: Promise<void>;
  private readonly inProcess: DurableSubscription;

  constructor(
    private readonly transport: TransportConfig,
    stream: EventStream,
    private readonly onActivated: (tenant: string) => void,
  ) {
    this.inProcess = new DurableSubscription(stream, {
      durable: POLICY_ACTIVATIONS_DURABLE,
      contracts: [PolicyActivated],
      handle: async (_contract, payload) => this.receive(payload),
    });
  }

  /** Resolves once the subscription is known to the server: no activation published afterwards is missed. */
  async start(): Promise<void> {
    if (this.transport.kind === 'in-process') return this.inProcess.start();
    if (this.connection) return;
    const nc = await connect({ servers: this.transport.servers, name: `${this.transport.name}-policy-activations`, ...NATS_CONNECTION });
    this.connection = nc;
    const subscription = nc.subscribe(PolicyActivated.subject);
    this.loop = (async () => {
      for await (const message of subscription) {
        let payload: unknown;
        try {
          payload = message.json();
        } catch {
          continue;
        }
        this.receive(payload);
      }
    })();
    await nc.flush();
  }

  async stop(): Promise<void> {
    await this.inProcess.stop();
    const nc = this.connection;
    this.connection = undefined;
    if (!nc) return;
    await nc.drain().catch(() => nc.close());
    await this.loop;
  }

  private receive(payload: unknown): void {
    const event = PolicyActivated.payload.safeParse(payload);
    if (!event.success) {
      this.logger.warn('ignored a malformed policy activation event');
      return;
    }
    this.onActivated(event.data.tenant);
  }
}
