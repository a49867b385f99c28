import type { EventContract, PayloadOf } from '@latchkey/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import { NATS_CONNECTION } from './transport.js';

const logger = new Logger('ReplicaSubscription');

/**
 * An event that every replica of a service must hear (a policy activation: each replica reloads its
 * bundle or clears its cached decisions). A JetStream durable consumer is shared by the replicas that
 * use its name (each event would reach one of them), and a durable per replica would outlive the replica
 * on the server. So each replica listens with a plain NATS subscription of its own (no queue group):
 * JetStream stores the event for the record, and NATS also hands it to every live subscriber. A replica
 * disconnected at that moment misses it: callers bound that with a periodic check or an expiry.
 */
export class ReplicaSubscription<C extends EventContract> {
  private connection?: NatsConnection;
  private loop?: Promise<void>;

  constructor(
    private readonly nats: { servers: string[]; name: string },
    private readonly contract: C,
    private readonly onEvent: (payload: PayloadOf<C>) => void,
  ) {}

  /** Resolves once the server knows the subscription: no event published afterwards is missed. */
  async start(): Promise<void> {
    if (this.connection) return;
    const nc = await connect({ servers: this.nats.servers, name: this.nats.name, ...NATS_CONNECTION });
    this.connection = nc;
    const subscription = nc.subscribe(this.contract.subject);
    this.loop = (async () => {
      for await (const message of subscription) {
        let payload: unknown;
        try {
          payload = message.json();
        } catch {
          continue;
        }
        const event = this.contract.payload.safeParse(payload);
        if (event.success) this.onEvent(event.data as PayloadOf<C>);
        else logger.warn(`ignored a malformed ${this.contract.subject} event`);
      }
    })();
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
