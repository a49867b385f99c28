import type { AuditRecordView, CredentialView, DeviceStatus, DeviceView } from '@latchkey/contracts';
import type { Device, DeviceAudit, DeviceCredential } from '../generated/prisma/client.js';

const iso = (date: Date) => date.toISOString();

/** A stored status: only the lifecycle ever writes one. */
export const statusOf = (device: { status: string }) => device.status as DeviceStatus;
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export function deviceView(device: Device): DeviceView {
  return {
    id: device.id,
    tenant: device.tenant,
    serial: device.serial,
    type: device.type,
    model: device.model,
    firmwareVersion: device.firmwareVersion,
    location: device.location,
    attributes: device.attributes as Record<string, unknown>,
    ownerId: device.ownerId,
    status: statusOf(device),
    createdAt: iso(device.createdAt),
    updatedAt: iso(device.updatedAt),
    lastSeenAt: isoOrNull(device.lastSeenAt),
  };
}

/** Never the secret's hash: it does not leave the registry. */
export function credentialView(credential: DeviceCredential): CredentialView {
  return {
    id: credential.id,
    deviceId: credential.deviceId,
    kind: credential.kind as CredentialView['kind'],
    status: credential.status as CredentialView['status'],
    kid: credential.kid,
    jwk: credential.jwk as Record<string, unknown> | null,
    thumbprint: credential.thumbprint,
    expiresAt: isoOrNull(credential.expiresAt),
    createdAt: iso(credential.createdAt),
    revokedAt: isoOrNull(credential.revokedAt),
  };
}

export function auditView(record: DeviceAudit): AuditRecordView {
  return {
    id: record.id.toString(),
    deviceId: record.deviceId,
    event: record.event,
    actor: { type: record.actorType as AuditRecordView['actor']['type'], id: record.actorId },
    at: iso(record.at),
    fromStatus: record.fromStatus as DeviceStatus | null,
    toStatus: record.toStatus as DeviceStatus | null,
    reason: record.reason,
    details: record.details as Record<string, unknown>,
  };
}
