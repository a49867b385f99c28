import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineEvent } from '../contract.js';
import { Actor, DeviceId, DeviceStatus } from './device.js';

/**
 * Every device event has this shape. `eventId` is unique per change and is the JetStream message id
 * (`Nats-Msg-Id`): the outbox may publish a change twice after a crash, the stream keeps it once, and
 * consumers may de-duplicate on it.
 */
export const DeviceEventPayload = z.object({
  eventId: z.uuid(),
  tenant: TenantId,
  deviceId: DeviceId,
  serial: z.string(),
  type: z.string(),
  actor: Actor,
  at: z.iso.datetime({ offset: true }),
  fromStatus: DeviceStatus.nullable(),
  toStatus: DeviceStatus.nullable(),
  ownerId: z.string().nullable(),
  reason: z.string().nullable(),
  credentialId: z.uuid().optional(),
});
export type DeviceEventPayload = z.infer<typeof DeviceEventPayload>;

/** The events of the device registry, by name: `latchkey.events.device.<name>`. */
export const DEVICE_EVENT_NAMES = ['created', 'updated', 'activated', 'suspended', 'reactivated', 'decommissioned', 'credential_added', 'credential_revoked', 'claimed'] as const;
export type DeviceEventName = (typeof DEVICE_EVENT_NAMES)[number];

const deviceEvent = <N extends DeviceEventName>(name: N) => defineEvent({ subject: `latchkey.events.device.${name}` as const, payload: DeviceEventPayload });

export const DeviceCreated = deviceEvent('created');
export const DeviceUpdated = deviceEvent('updated');
export const DeviceActivated = deviceEvent('activated');
export const DeviceSuspended = deviceEvent('suspended');
export const DeviceReactivated = deviceEvent('reactivated');
export const DeviceDecommissioned = deviceEvent('decommissioned');
export const DeviceCredentialAdded = deviceEvent('credential_added');
export const DeviceCredentialRevoked = deviceEvent('credential_revoked');
export const DeviceClaimed = deviceEvent('claimed');

export const DEVICE_EVENTS = {
  created: DeviceCreated,
  updated: DeviceUpdated,
  activated: DeviceActivated,
  suspended: DeviceSuspended,
  reactivated: DeviceReactivated,
  decommissioned: DeviceDecommissioned,
  credential_added: DeviceCredentialAdded,
  credential_revoked: DeviceCredentialRevoked,
  claimed: DeviceClaimed,
} as const;

/** The events after which a device's live tokens must stop working. */
export const DEVICE_TOKEN_REVOKING_EVENTS = [DeviceSuspended, DeviceDecommissioned, DeviceCredentialRevoked] as const;
