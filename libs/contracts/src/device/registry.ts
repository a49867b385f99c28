import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import {
  Actor,
  AuditRecordView,
  ClaimCodeView,
  CredentialInput,
  CredentialView,
  Cursor,
  DeviceAction,
  DeviceAttributes,
  DeviceId,
  DeviceStatus,
  DeviceType,
  DeviceView,
  NewDevice,
  PageLimit,
} from './device.js';

// Errors of every registry operation: `not_found` (no such device in this tenant — another tenant's
// device is not found either), `validation_failed` (a value the registry refuses, e.g. a shared secret
// for a type that may not use one), `conflict` (serial taken, illegal transition: details carry
// `from` and `action`).

/** Creates one device; with `claimCode: true` the reply carries the code, the only time it is shown. */
export const CreateDevice = defineRequest({
  subject: 'latchkey.device.v1.create',
  request: z.object({ tenant: TenantId, actor: Actor, device: NewDevice }),
  reply: z.object({
    device: DeviceView,
    credentials: z.array(CredentialView),
    /** Generated shared secrets, by credential id: shown once. */
    secrets: z.record(z.string(), z.string()).optional(),
    claimCode: ClaimCodeView.optional(),
  }),
});

export const GetDevice = defineRequest({
  subject: 'latchkey.device.v1.get',
  request: z.object({ tenant: TenantId, deviceId: DeviceId }),
  reply: z.object({ device: DeviceView, credentials: z.array(CredentialView) }),
});

/**
 * Lists a tenant's devices newest first, filtered; `cursor` is the opaque `nextCursor` of the previous
 * page (stable while devices are added). `attributes` matches devices having every given value.
 */
export const ListDevices = defineRequest({
  subject: 'latchkey.device.v1.list',
  request: z.object({
    tenant: TenantId,
    status: DeviceStatus.optional(),
    type: DeviceType.optional(),
    /** A user id, or `none` for unowned devices. */
    ownerId: z.string().min(1).max(200).optional(),
    attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    limit: PageLimit,
    cursor: Cursor.optional(),
  }),
  reply: z.object({ items: z.array(DeviceView), nextCursor: z.string().nullable() }),
});

/**
 * Changes descriptive fields. `attributes` is a JSON merge patch (RFC 7396): a null value removes the
 * attribute. A decommissioned device is final: `conflict`.
 */
export const UpdateDevice = defineRequest({
  subject: 'latchkey.device.v1.update',
  request: z.object({
    tenant: TenantId,
    actor: Actor,
    deviceId: DeviceId,
    changes: z
      .object({
        model: z.string().max(200).nullable().optional(),
        firmwareVersion: z.string().max(100).nullable().optional(),
        location: z.string().max(200).nullable().optional(),
        attributes: DeviceAttributes.optional(),
      })
      .refine((changes) => Object.keys(changes).length > 0, 'nothing to change'),
    reason: z.string().max(500).optional(),
  }),
  reply: z.object({ device: DeviceView }),
});

/**
 * A lifecycle action: activate (provisioned → active), suspend (active → suspended), reactivate
 * (suspended → active), decommission (any but decommissioned → decommissioned; destroys credentials).
 * Anything else is `conflict` with details `{ from, action }`.
 */
export const ChangeDeviceStatus = defineRequest({
  subject: 'latchkey.device.v1.change-status',
  request: z.object({ tenant: TenantId, actor: Actor, deviceId: DeviceId, action: DeviceAction, reason: z.string().max(500).optional() }),
  reply: z.object({ device: DeviceView }),
});

export const AddDeviceCredential = defineRequest({
  subject: 'latchkey.device.v1.add-credential',
  request: z.object({ tenant: TenantId, actor: Actor, deviceId: DeviceId, credential: CredentialInput, reason: z.string().max(500).optional() }),
  reply: z.object({ credential: CredentialView, secret: z.string().optional() }),
});

/** Revoking a credential also revokes the device's live tokens (event `credential_revoked`). */
export const RevokeDeviceCredential = defineRequest({
  subject: 'latchkey.device.v1.revoke-credential',
  request: z.object({ tenant: TenantId, actor: Actor, deviceId: DeviceId, credentialId: z.uuid(), reason: z.string().max(500).optional() }),
  reply: z.object({ credential: CredentialView }),
});

/** The device's audit trail, newest first. */
export const GetDeviceAudit = defineRequest({
  subject: 'latchkey.device.v1.audit',
  request: z.object({ tenant: TenantId, deviceId: DeviceId, limit: PageLimit, cursor: Cursor.optional() }),
  reply: z.object({ items: z.array(AuditRecordView), nextCursor: z.string().nullable() }),
});

/** A device by its serial (e.g. the `device:<serial>` resource of a delegation grant); `not_found` when none. */
export const FindDeviceBySerial = defineRequest({
  subject: 'latchkey.device.v1.find-by-serial',
  request: z.object({ tenant: TenantId, serial: z.string().min(1).max(200) }),
  reply: z.object({ device: DeviceView }),
});

/**
 * A command sent to a device through the platform (the demo resource endpoint): recorded in the device's
 * audit trail with who acted, for whom (a delegated token's `sub`) and under which grant. Refused with
 * `conflict` unless the device is active.
 */
export const RecordDeviceCommand = defineRequest({
  subject: 'latchkey.device.v1.record-command',
  request: z.object({
    tenant: TenantId,
    deviceId: DeviceId,
    command: z.string().min(1).max(100).regex(/^[a-z][a-z0-9-]*$/, 'a command name is a lowercase slug'),
    /** Who sent it: the person or app (a delegated token's `act.sub`, else its `sub`). */
    actor: Actor,
    /** A delegated token's `sub`: the person the actor acted for. */
    onBehalfOf: z.string().min(1).max(200).nullable(),
    grantId: z.uuid().nullable(),
  }),
  reply: z.object({ commandId: z.string(), device: DeviceView, at: z.iso.datetime({ offset: true }) }),
});
