import { randomUUID } from 'node:crypto';
import type { TenantDirectory } from '@latchkey/config';
import { type Actor, type AuditRecordView, type ChangeDeviceStatus, ContractError, type CreateDevice, decodeCursor, type DeviceAction, DeviceAttributes, type DeviceView, encodeCursor, type ListDevices, type ParsedRequestOf, type RecordDeviceCommand, type ReplyOf, type UpdateDevice } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import { type Device, Prisma } from '../generated/prisma/client.js';
import { type DevicePreparation, insertDevices, type ParsedNewDevice } from '../provisioning/device-preparation.js';
import { recordChanges } from './device-changes.js';
import { DEVICE_COLUMNS, type DeviceStore, serialTakenMessage } from './device-store.js';
import { AuditCursorKey, DeviceCursorKey } from './cursor.js';
import { auditView, credentialView, deviceView, statusOf } from './device-views.js';
import { assertChangeable, transition } from './lifecycle.js';

type RecordedCommand = Omit<ParsedRequestOf<typeof RecordDeviceCommand>, 'tenant' | 'deviceId'>;
type ListQuery = Omit<ParsedRequestOf<typeof ListDevices>, 'tenant'>;
type Changes = ParsedRequestOf<typeof UpdateDevice>['changes'];
const DESCRIPTIVE_FIELDS = ['model', 'firmwareVersion', 'location'] as const;

/**
 * The registry's use-cases on single devices: create, read, list, describe, move through the
 * lifecycle, bind an owner, read the audit trail. Each change is one transaction that writes the
 * change, its audit record and its event (outbox) together, with the device's row locked.
 */
export class DeviceRegistry {
  constructor(
    private readonly store: DeviceStore,
    private readonly tenants: TenantDirectory,
    private readonly preparation: DevicePreparation,
    private readonly clock: Clock,
  ) {}

  async create(tenant: string, actor: Actor, input: ParsedNewDevice): Promise<ReplyOf<typeof CreateDevice>> {
    const prepared = this.preparation.prepare(tenant, actor, input);
    const inserted = await this.store.write((tx) => insertDevices(tx, [prepared]));
    if (!inserted.has(prepared.device.id)) {
      const taken = await this.store.serialTaken(tenant, input.serial);
      throw new ContractError('conflict', serialTakenMessage(input.serial, taken ?? { decommissioned: false }), { serial: input.serial, ...(taken ? { deviceId: taken.deviceId } : {}) });
    }
    return {
      device: deviceView(prepared.device),
      credentials: prepared.credentials.map(credentialView),
      ...(Object.keys(prepared.secrets).length ? { secrets: prepared.secrets } : {}),
      ...(prepared.claimCode ? { claimCode: prepared.claimCode.view } : {}),
    };
  }

  async get(tenant: string, deviceId: string) {
    this.tenants.get(tenant);
    const device = await this.store.prisma.device.findFirst({ where: { tenant, id: deviceId }, include: { credentials: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } } });
    if (!device) throw new ContractError('not_found', 'no such device');
    return { device: deviceView(device), credentials: device.credentials.map(credentialView) };
  }

  /** Newest first; filters combine (AND); `attributes` is JSONB containment, served by the GIN index. */
  async list(tenant: string, query: ListQuery): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    this.tenants.get(tenant);
    const where = [Prisma.sql`tenant = ${tenant}`];
    if (query.status) where.push(Prisma.sql`status = ${query.status}`);
    if (query.type) where.push(Prisma.sql`type = ${query.type}`);
    if (query.ownerId === 'none') where.push(Prisma.sql`owner_id IS NULL`);
    else if (query.ownerId) where.push(Prisma.sql`owner_id = ${query.ownerId}`);
    if (query.attributes && Object.keys(query.attributes).length) where.push(Prisma.sql`attributes @> ${JSON.stringify(query.attributes)}::jsonb`);
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, DeviceCursorKey);
      where.push(Prisma.sql`(created_at, id) < (${new Date(createdAt)}::timestamptz, ${id}::uuid)`);
    }
    const rows = await this.store.prisma.$queryRaw<Device[]>`
      SELECT ${DEVICE_COLUMNS} FROM "devices"."device" WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`;
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(deviceView), nextCursor: rows.length > query.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
  }

  /** Descriptive fields; `attributes` is a JSON merge patch (RFC 7396). Nothing that actually changes: no write, no event. */
  async update(tenant: string, actor: Actor, deviceId: string, changes: Changes, reason?: string): Promise<DeviceView> {
    this.tenants.get(tenant);
    const at = new Date(this.clock());
    return this.store.write(async (tx) => {
      const current = await this.store.lock(tx, tenant, deviceId);
      assertChangeable(statusOf(current), 'update');
      const data: Prisma.DeviceUpdateInput = {};
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of DESCRIPTIVE_FIELDS) {
        const value = changes[field];
        if (value === undefined || value === current[field]) continue;
        data[field] = value;
        changed[field] = { from: current[field], to: value };
      }
      if (changes.attributes) {
        const before = current.attributes as Record<string, unknown>;
        const after = mergePatch(before, changes.attributes);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          const valid = DeviceAttributes.safeParse(after);
          if (!valid.success) throw new ContractError('validation_failed', `attributes: ${valid.error.issues[0]?.message ?? 'invalid'}`);
          data.attributes = after as Prisma.InputJsonObject;
          changed.attributes = { from: before, to: after };
        }
      }
      if (!Object.keys(changed).length) return deviceView(current);
      const updated = await tx.device.update({ where: { id: current.id }, data: { ...data, updatedAt: at } });
      await recordChanges(tx, { device: updated, event: 'updated', actor, at, reason: reason ?? null, details: { changed } });
      return deviceView(updated);
    });
  }

  /** A lifecycle action; decommissioning also destroys the credentials' key material and any claim code. */
  async changeStatus(tenant: string, actor: Actor, deviceId: string, action: DeviceAction, reason?: string): Promise<ReplyOf<typeof ChangeDeviceStatus>> {
    this.tenants.get(tenant);
    const at = new Date(this.clock());
    return this.store.write(async (tx) => {
      const current = await this.store.lock(tx, tenant, deviceId);
      const from = statusOf(current);
      const { to, event } = transition(from, action);
      const updated = await tx.device.update({ where: { id: current.id }, data: { status: to, updatedAt: at } });
      let details: Record<string, unknown> = {};
      if (to === 'decommissioned') {
        // Final: keys, certificate thumbprints and secret hashes go; the rows stay (revoked) for the audit trail.
        const destroyed = await tx.$executeRaw`
          UPDATE "devices"."device_credential"
          SET status = 'revoked', revoked_at = COALESCE(revoked_at, ${at}), jwk = NULL, thumbprint = NULL, secret_hash = NULL
          WHERE tenant = ${tenant} AND device_id = ${current.id}::uuid`;
        await tx.claimCode.deleteMany({ where: { tenant, deviceId: current.id } });
        details = { credentialsDestroyed: destroyed };
      }
      await recordChanges(tx, { device: updated, event, actor, at, fromStatus: from, toStatus: to, reason: reason ?? null, details });
      return { device: deviceView(updated) };
    });
  }

  /** RFC 8628 approval: the approving user becomes the owner of an unowned device; an owned one keeps its owner. */
  async bindOwner(tenant: string, deviceId: string, userId: string): Promise<{ device: DeviceView; bound: boolean }> {
    this.tenants.get(tenant);
    const at = new Date(this.clock());
    return this.store.write(async (tx) => {
      const current = await this.store.lock(tx, tenant, deviceId);
      assertChangeable(statusOf(current), 'bind-owner');
      if (current.ownerId !== null) return { device: deviceView(current), bound: false };
      const updated = await tx.device.update({ where: { id: current.id }, data: { ownerId: userId, updatedAt: at } });
      // An owned device cannot be claimed: its pending claim code is worthless now.
      await tx.claimCode.deleteMany({ where: { tenant, deviceId: current.id } });
      await recordChanges(tx, { device: updated, event: 'claimed', actor: { type: 'user', id: userId }, at, details: { via: 'device_authorization' } });
      return { device: deviceView(updated), bound: true };
    });
  }

  /** A device by its serial: the stable name delegation grants use (`device:<serial>`, ADR 0019). */
  async findBySerial(tenant: string, serial: string): Promise<{ device: DeviceView }> {
    this.tenants.get(tenant);
    const device = await this.store.prisma.device.findUnique({ where: { tenant_serial: { tenant, serial } } });
    if (!device) throw new ContractError('not_found', 'no such device');
    return { device: deviceView(device) };
  }

  /**
   * A command sent to the device through the platform, recorded in its audit trail with who sent it,
   * for whom and under which grant. Only an active device takes commands.
   */
  async recordCommand(tenant: string, deviceId: string, command: RecordedCommand): Promise<ReplyOf<typeof RecordDeviceCommand>> {
    this.tenants.get(tenant);
    const at = new Date(this.clock());
    const commandId = randomUUID();
    return this.store.write(async (tx) => {
      const current = await this.store.lock(tx, tenant, deviceId);
      if (statusOf(current) !== 'active') throw new ContractError('conflict', `a ${statusOf(current)} device takes no commands`, { status: statusOf(current) });
      const details = { command: command.command, commandId, onBehalfOf: command.onBehalfOf, grantId: command.grantId };
      await recordChanges(tx, { device: current, event: 'command', actor: command.actor, at, details });
      return { commandId, device: deviceView(current), at: at.toISOString() };
    });
  }

  async audit(tenant: string, deviceId: string, limit: number, cursor?: string): Promise<{ items: AuditRecordView[]; nextCursor: string | null }> {
    this.tenants.get(tenant);
    await this.store.find(tenant, deviceId);
    const before = cursor ? BigInt(decodeCursor(cursor, AuditCursorKey)[0]) : undefined;
    const rows = await this.store.prisma.deviceAudit.findMany({
      where: { tenant, deviceId, ...(before !== undefined ? { id: { lt: before } } : {}) },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(auditView), nextCursor: rows.length > limit && last ? encodeCursor([last.id.toString()]) : null };
  }
}

/** RFC 7396 on a flat object: null removes a member, anything else sets it. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result = { ...target };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = value;
  }
  return result;
}
