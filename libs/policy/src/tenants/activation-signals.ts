import { PolicyActivated } from '@latchkey/contracts';
import { NATS_CONNECTION, type TransportConfig } from '@latchkey/messaging';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';

const logger = new Logger('ActivationSignals');

/**
 * Every replica must reload a tenant's policy when any replica activates a new one. A JetStream durable
 * consumer is shared by the replicas that use its name (each event reaches one of them), and a durable
 * per replica would outlive the replica on the server. So each replica listens to the activation events
 * with a plain NATS subscription of its own (no queue group): JetStream stores the event for the record,
 * and NATS also hands it to every live subscriber. A replica that was disconnected at that moment
 * catches up through the periodic version check (PolicyServiceOptions.reloadIntervalMs).
 * The all-in-one process has a single replica: nothing to listen to.
 */
export class ActivationSignals {
  private connection?: NatsConnection;
  private loop?: Promise<void>;

  constructor(
    private readonly transport: TransportConfig,
    private readonly onActivated: (tenant: string) => void,
  ) {}

  async start(): Promise<void> {
    if (this.transport.kind !== 'nats') return;
    const nc = await connect({ servers: this.transport.servers, name: `${this.transport.name}-policy-signals`, ...NATS_CONNECTION });
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
        const event = PolicyActivated.payload.safeParse(payload);
        if (event.success) this.onActivated(event.data.tenant);
        else logger.warn('ignored a malformed policy activation event');
      }
    })();
    // The server knows the subscription once this returns: no activation published afterwards is missed.
    await nc.flush();
  }

  async stop(): Promise<void> {
    const nc = this.connection;
    this.connection = undefined;
    if (!nc) return;
    await nc.drain().catch(() => nc.close());
    await this.loop;
  }
}
