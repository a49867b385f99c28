import { randomUUID } from 'node:crypto';
import { type Actor, DELEGATION_EVENTS } from '@latchkey/contracts';
import type { GrantRecord } from './grant-record.js';

export type GrantEvent = keyof typeof DELEGATION_EVENTS;

/** One change of one grant: its audit record and its event (outbox row). */
export interface GrantChange {
  grant: GrantRecord;
  event: GrantEvent;
  actor: Actor;
  at: Date;
  reason: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  tenant: string;
  grantId: string;
  event: GrantEvent;
  actor: Actor;
  at: Date;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * The rows that record changes, written in the transaction of the change itself: a change, its audit
 * record and its event exist all together or not at all. The relay publishes the outbox rows later,
 * each with `eventId` = the row's id as its JetStream message id.
 */
export function changeRows(changes: readonly GrantChange[]): { audit: AuditRow[]; outbox: OutboxRow[] } {
  const audit: AuditRow[] = [];
  const outbox: OutboxRow[] = [];
  for (const { grant, event, actor, at, reason, details } of changes) {
    audit.push({ tenant: grant.tenant, grantId: grant.id, event, actor, at, reason, details: details ?? {} });
    const contract = DELEGATION_EVENTS[event];
    const eventId = randomUUID();
    const payload = contract.payload.parse({
      eventId,
      tenant: grant.tenant,
      grantId: grant.id,
      parentId: grant.parentId,
      delegatorId: grant.delegatorId,
      delegatee: { type: grant.delegateeType, id: grant.delegateeId },
      resource: grant.resource,
      scopes: grant.scopes,
      expiresAt: grant.expiresAt.toISOString(),
      actor,
      at: at.toISOString(),
      reason,
    });
    outbox.push({ id: eventId, subject: contract.subject, payload });
  }
  return { audit, outbox };
}
