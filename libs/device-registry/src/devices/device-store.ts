import { ContractError } from '@latchkey/contracts';
import type { DeviceDatabase } from '../device-registry.prisma.js';
import { type Device, Prisma } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;

/** Told after every committed change that wrote outbox rows: the relay publishes them without waiting for its poll. */
export interface OutboxSignal {
  kick(): void;
}

/** The device columns under the names of the Prisma model, for raw queries. */
export const DEVICE_COLUMNS = Prisma.raw(
  `id, tenant, serial, type, model, firmware_version AS "firmwareVersion", location, attributes, owner_id AS "ownerId", status, managed_by AS "managedBy",
   created_at AS "createdAt", updated_at AS "updatedAt", last_seen_at AS "lastSeenAt"`,
);

export function deviceNotFound(): ContractError {
  return new ContractError('not_found', 'no such device');
}

/**
 * Reads and transactional writes of the registry's tables. Every query names the tenant: a device
 * of another tenant is not found, exactly like one that does not exist.
 */
export class DeviceStore {
  constructor(
    private readonly db: DeviceDatabase,
    private readonly outbox: OutboxSignal,
  ) {}

  get prisma() {
    return this.db.prisma;
  }

  /** Runs `work` in one transaction; once it has committed, kicks the outbox relay. */
  async write<R>(work: (tx: Tx) => Promise<R>): Promise<R> {
    const result = await this.db.prisma.$transaction(work);
    this.outbox.kick();
    return result;
  }

  async find(tenant: string, id: string): Promise<Device> {
    const device = await this.db.prisma.device.findFirst({ where: { tenant, id } });
    if (!device) throw deviceNotFound();
    return device;
  }

  /** The device, its row locked until `tx` ends: changes of one device happen one after the other. */
  async lock(tx: Tx, tenant: string, id: string): Promise<Device> {
    const rows = await tx.$queryRaw<Device[]>`SELECT ${DEVICE_COLUMNS} FROM "devices"."device" WHERE tenant = ${tenant} AND id = ${id}::uuid FOR UPDATE`;
    if (!rows[0]) throw deviceNotFound();
    return rows[0];
  }

  /** Why a serial cannot be used for a new device (it is taken, for good if its device was decommissioned). */
  async serialTaken(tenant: string, serial: string): Promise<{ deviceId: string; decommissioned: boolean } | null> {
    const existing = await this.db.prisma.device.findUnique({ where: { tenant_serial: { tenant, serial } }, select: { id: true, status: true } });
    return existing && { deviceId: existing.id, decommissioned: existing.status === 'decommissioned' };
  }
}

/** The message for a serial that is taken; the same words in single and bulk provisioning. */
export function serialTakenMessage(serial: string, taken: { decommissioned: boolean }): string {
  return taken.decommissioned
    ? `serial ${serial} belonged to a decommissioned device and cannot be reused`
    : `a device with serial ${serial} already exists`;
}
