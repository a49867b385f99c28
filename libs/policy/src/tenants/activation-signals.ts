import { PolicyActivated } from '@latchkey/contracts';
import { ReplicaSubscription, type TransportConfig } from '@latchkey/messaging';

/**
 * Every replica must reload a tenant's policy when any replica activates a new one: each listens to the
 * activation events on its own (`ReplicaSubscription`). A replica that was disconnected at that moment
 * catches up through the periodic version check (PolicyServiceOptions.reloadIntervalMs).
 * The all-in-one process has a single replica: nothing to listen to.
 */
export class ActivationSignals {
  private readonly subscription?: ReplicaSubscription<typeof PolicyActivated>;

  constructor(transport: TransportConfig, onActivated: (tenant: string) => void) {
    if (transport.kind === 'nats') {
      this.subscription = new ReplicaSubscription({ servers: transport.servers, name: `${transport.name}-policy-signals` }, PolicyActivated, (event) => onActivated(event.tenant));
    }
  }

  async start(): Promise<void> {
    await this.subscription?.start();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
