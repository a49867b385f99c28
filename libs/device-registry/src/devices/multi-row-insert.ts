import { type ClaimCode, type Device, type DeviceCredential, Prisma } from '../generated/prisma/client.js';

type SqlType = 'text' | 'uuid' | 'jsonb' | 'timestamptz';

/** A column of a multi-row insert: its name, its SQL type, and its value in a row. */
type Column<R> = readonly [name: string, type: SqlType, value: (row: R) => unknown];

/**
 * `INSERT INTO t (a, b, …) SELECT * FROM unnest($1::type[], $2::type[], …)`: one parameter per column
 * whatever the number of rows. Bulk provisioning writes five tables per chunk of 500 devices; Prisma's
 * `createMany` binds a parameter per value and spent ~0.2 ms per row building each statement, four
 * times what PostgreSQL needs to insert it.
 */
export function multiRowInsert<R>(table: string, columns: readonly Column<R>[], rows: readonly R[], tail: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const names = Prisma.raw(columns.map(([name]) => `"${name}"`).join(', '));
  const arrays = columns.map(([, type, value]) => Prisma.sql`${rows.map((row) => sqlText(value(row)))}::${Prisma.raw(type)}[]`);
  return Prisma.sql`INSERT INTO ${Prisma.raw(table)} (${names}) SELECT * FROM unnest(${Prisma.join(arrays)}) ${tail}`;
}

/** Every value travels as text (or NULL) and is cast by the column's array type. */
function sqlText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const DEVICE_TABLE: readonly Column<Device>[] = [
  ['id', 'uuid', (d) => d.id],
  ['tenant', 'text', (d) => d.tenant],
  ['serial', 'text', (d) => d.serial],
  ['type', 'text', (d) => d.type],
  ['model', 'text', (d) => d.model],
  ['firmware_version', 'text', (d) => d.firmwareVersion],
  ['location', 'text', (d) => d.location],
  ['attributes', 'jsonb', (d) => d.attributes],
  ['owner_id', 'text', (d) => d.ownerId],
  ['status', 'text', (d) => d.status],
  ['managed_by', 'text', (d) => d.managedBy],
  ['created_at', 'timestamptz', (d) => d.createdAt],
  ['updated_at', 'timestamptz', (d) => d.updatedAt],
  ['last_seen_at', 'timestamptz', (d) => d.lastSeenAt],
];

export const CREDENTIAL_TABLE: readonly Column<DeviceCredential>[] = [
  ['id', 'uuid', (c) => c.id],
  ['tenant', 'text', (c) => c.tenant],
  ['device_id', 'uuid', (c) => c.deviceId],
  ['kind', 'text', (c) => c.kind],
  ['status', 'text', (c) => c.status],
  ['kid', 'text', (c) => c.kid],
  ['jwk', 'jsonb', (c) => c.jwk],
  ['thumbprint', 'text', (c) => c.thumbprint],
  ['secret_hash', 'text', (c) => c.secretHash],
  ['expires_at', 'timestamptz', (c) => c.expiresAt],
  ['created_at', 'timestamptz', (c) => c.createdAt],
  ['revoked_at', 'timestamptz', (c) => c.revokedAt],
];

export type NewClaimCodeRow = Omit<ClaimCode, 'usedAt' | 'usedBy'>;

export const CLAIM_CODE_TABLE: readonly Column<NewClaimCodeRow>[] = [
  ['tenant', 'text', (c) => c.tenant],
  ['device_id', 'uuid', (c) => c.deviceId],
  ['code_hash', 'text', (c) => c.codeHash],
  ['expires_at', 'timestamptz', (c) => c.expiresAt],
  ['created_at', 'timestamptz', (c) => c.createdAt],
];

/** An audit record to write (its id comes from the sequence). */
export interface AuditRow {
  tenant: string;
  deviceId: string;
  event: string;
  actorType: string;
  actorId: string;
  at: Date;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

export const AUDIT_TABLE: readonly Column<AuditRow>[] = [
  ['tenant', 'text', (a) => a.tenant],
  ['device_id', 'uuid', (a) => a.deviceId],
  ['event', 'text', (a) => a.event],
  ['actor_type', 'text', (a) => a.actorType],
  ['actor_id', 'text', (a) => a.actorId],
  ['at', 'timestamptz', (a) => a.at],
  ['from_status', 'text', (a) => a.fromStatus],
  ['to_status', 'text', (a) => a.toStatus],
  ['reason', 'text', (a) => a.reason],
  ['details', 'jsonb', (a) => a.details],
];

/** An outbox row to write (seq and created_at come from the table). */
export interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

export const OUTBOX_TABLE: readonly Column<OutboxRow>[] = [
  ['id', 'uuid', (o) => o.id],
  ['subject', 'text', (o) => o.subject],
  ['payload', 'jsonb', (o) => o.payload],
];
