import { randomUUID } from 'node:crypto';
import { type Actor, DEVICE_EVENTS, type DeviceEventName, type DeviceStatus } from '@latchkey/contracts';
import type { Prisma } from '../generated/prisma/client.js';
import { AUDIT_TABLE, type AuditRow, multiRowInsert, OUTBOX_TABLE, type OutboxRow } from './multi-row-insert.js';

/** What the audit trail records: every device event, and records that publish none (a claim code issued, a command sent). */
export type AuditEvent = DeviceEventName | 'claim_code_issued' | 'command';

const AUDIT_ONLY: ReadonlySet<AuditEvent> = new Set(['claim_code_issued', 'command']);

/** One change of one device: its audit record and, for a device event, its outbox row. */
export interface DeviceChange {
  device: { id: string; tenant: string; serial: string; type: string; ownerId: string | null };
  event: AuditEvent;
  actor: Actor;
  at: Date;
  fromStatus?: DeviceStatus | null;
  toStatus?: DeviceStatus | null;
  reason?: string | null;
  details?: Record<string, unknown>;
  credentialId?: string;
}

export interface ChangeRows {
  audit: AuditRow[];
  outbox: OutboxRow[];
}

/**
 * The rows that record changes: written in the transaction of the change itself, so that a change,
 * its audit record and its event exist all together or not at all. The relay publishes the outbox
 * rows later, each with `eventId` = the row's id as its JetStream message id.
 */
export function changeRows(changes: readonly DeviceChange[]): ChangeRows {
  const rows: ChangeRows = { audit: [], outbox: [] };
  for (const change of changes) {
    const { device } = change;
    const fromStatus = change.fromStatus ?? null;
    const toStatus = change.toStatus ?? null;
    const reason = change.reason ?? null;
    rows.audit.push({
      tenant: device.tenant,
      deviceId: device.id,
      event: change.event,
      actorType: change.actor.type,
      actorId: change.actor.id,
      at: change.at,
      fromStatus,
      toStatus,
      reason,
      details: change.details ?? {},
    });
    if (AUDIT_ONLY.has(change.event)) continue;
    const contract = DEVICE_EVENTS[change.event as DeviceEventName];
    const eventId = randomUUID();
    const payload = contract.payload.parse({
      eventId,
      tenant: device.tenant,
      deviceId: device.id,
      serial: device.serial,
      type: device.type,
      actor: change.actor,
      at: change.at.toISOString(),
      fromStatus,
      toStatus,
      ownerId: device.ownerId,
      reason,
      ...(change.credentialId ? { credentialId: change.credentialId } : {}),
    });
    rows.outbox.push({ id: eventId, subject: contract.subject, payload });
  }
  return rows;
}

/** Writes the records of `changes` with the transaction `tx`: two statements, whatever their number. */
export async function recordChanges(tx: Prisma.TransactionClient, ...changes: DeviceChange[]): Promise<void> {
  const rows = changeRows(changes);
  if (rows.audit.length) await tx.$executeRaw(multiRowInsert('"devices"."device_audit"', AUDIT_TABLE, rows.audit));
  if (rows.outbox.length) await tx.$executeRaw(multiRowInsert('"devices"."outbox_event"', OUTBOX_TABLE, rows.outbox));
}
