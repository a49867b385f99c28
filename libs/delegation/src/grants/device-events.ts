import { DeviceClaimed, DeviceDecommissioned, DeviceEventPayload, type EventContract } from '@latchkey/contracts';
import { DurableSubscription, type EventStream } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { Clock } from '../clock.js';
import { SYSTEM_ACTOR } from './expiry-sweeper.js';
import type { GrantStore } from './grant-store.js';

/** The durable consumer's name: replicas share it, so each device event is handled once by the service. */
export const DEVICE_EVENTS_DURABLE = 'delegation-device-events';

export const GRANT_ENDING_DEVICE_EVENTS = [DeviceDecommissioned, DeviceClaimed] as const;

/**
 * What a device's fate does to the grants on it (resource `device:<serial>`), from the registry's events
 * on JetStream: a decommissioned device ends every active grant on it; a device that changed owner ends
 * the grants whose chain does not start with its new owner — nobody can go on sharing what they no
 * longer own. Ended grants are `revoked` by the system, the reason says why, each with an audit record and
 * a `revoked` event. Idempotent: only active grants change, so a redelivered event changes nothing.
 */
export class DeviceEventsConsumer {
  private readonly logger = new Logger('DelegationDeviceEvents');
  private readonly subscription: DurableSubscription;

  constructor(
    stream: EventStream,
    private readonly store: GrantStore,
    private readonly clock: Clock,
  ) {
    this.subscription = new DurableSubscription(stream, {
      durable: DEVICE_EVENTS_DURABLE,
      contracts: GRANT_ENDING_DEVICE_EVENTS,
      handle: async (contract, payload) => {
        await this.handle(contract, payload);
      },
    });
  }

  /** Resolves once the durable consumer exists. */
  start(): Promise<void> {
    return this.subscription.start();
  }

  stop(): Promise<void> {
    return this.subscription.stop();
  }

  /** One event: resolves to acknowledge it, throws (the database is down) to have it redelivered. */
  async handle(contract: EventContract, payload: unknown): Promise<number> {
    const parsed = DeviceEventPayload.safeParse(payload);
    if (!parsed.success) {
      this.logger.error(`dropped a malformed ${contract.subject} event`);
      return 0;
    }
    const event = parsed.data;
    const resource = `device:${event.serial}`;
    const decommissioned = contract.subject === DeviceDecommissioned.subject;
    const reason = decommissioned ? `device ${event.serial} was decommissioned` : `device ${event.serial} has a new owner`;
    const at = new Date(this.clock());
    const ended = await this.store.write(async (tx) => {
      // After a change of owner, the new owner's own grants (and those re-delegated from them) stay.
      const keep = decommissioned || event.ownerId === null ? undefined : event.ownerId;
      const targets = await this.store.lockActiveOnResource(tx, event.tenant, resource, keep);
      const rows = await this.store.end(
        tx,
        event.tenant,
        targets.map((grant) => ({ id: grant.id, reason })),
        'revoked',
        SYSTEM_ACTOR,
        at,
      );
      const details = { deviceId: event.deviceId, deviceEvent: event.eventId, cause: decommissioned ? 'decommissioned' : 'owner_changed' };
      await this.store.record(
        tx,
        rows.map((grant) => ({ grant, event: 'revoked' as const, actor: SYSTEM_ACTOR, at, reason, details })),
      );
      return rows.length;
    });
    if (ended) this.logger.log(`${ended} grant(s) on ${resource} (${event.tenant}) ended: ${reason}`);
    return ended;
  }
}
