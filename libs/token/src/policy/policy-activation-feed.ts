import { type PayloadOf, PolicyActivated } from '@latchkey/contracts';
import { DurableSubscription, type EventStream, ReplicaSubscription, type TransportConfig } from '@latchkey/messaging';

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
  private readonly subscription: DurableSubscription | ReplicaSubscription<typeof PolicyActivated>;

  constructor(transport: TransportConfig, stream: EventStream, onActivated: (tenant: string) => void) {
    this.subscription =
      transport.kind === 'in-process'
        ? new DurableSubscription(stream, {
            durable: POLICY_ACTIVATIONS_DURABLE,
            contracts: [PolicyActivated],
            // The stream hands over validated payloads only.
            handle: async (_contract, payload) => onActivated((payload as PayloadOf<typeof PolicyActivated>).tenant),
          })
        : new ReplicaSubscription({ servers: transport.servers, name: `${transport.name}-policy-activations` }, PolicyActivated, (event) => onActivated(event.tenant));
  }

  /** Resolves once the subscription is known to the server: no activation published afterwards is missed. */
  start(): Promise<void> {
    return this.subscription.start();
  }

  stop(): Promise<void> {
    return this.subscription.stop();
  }
}
