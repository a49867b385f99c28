import type { DeviceConfig, TenantConfig } from '@latchkey/config';
import { type Actor, ContractError, FindUser } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { Clock } from '../clock.js';
import type { Prisma } from '../generated/prisma/client.js';
import { recordChanges } from './device-changes.js';
import type { DeviceStore } from './device-store.js';

const RETRY_MS = 500;
const GIVE_UP_AFTER_MS = 120_000;
const TENANTS_FILE: Actor = { type: 'system', id: 'tenants-file' };

/**
 * Brings the devices of the tenants file into the registry. Owners are named by username and
 * resolved through the identity service, which may start after this one: so this runs in the
 * background after boot and retries until identity answers.
 */
export class DeviceReconciler {
  private readonly logger = new Logger('DeviceReconciler');

  constructor(
    private readonly store: DeviceStore,
    private readonly identity: ContractClient,
    private readonly clock: Clock,
  ) {}

  async reconcile(tenants: TenantConfig[]): Promise<void> {
    for (const tenant of tenants) {
      for (const device of tenant.devices) await this.upsert(tenant.id, device, await this.ownerId(tenant.id, device.owner));
    }
  }

  /** Retries while identity is unreachable; a configuration error (unknown owner) is final. */
  async reconcileWithRetry(tenants: TenantConfig[], signal: AbortSignal): Promise<void> {
    const started = Date.now();
    while (!signal.aborted) {
      try {
        await this.reconcile(tenants);
        return;
      } catch (error) {
        const retryable = ContractError.is(error, 'unavailable');
        if (!retryable || Date.now() - started > GIVE_UP_AFTER_MS) {
          this.logger.error(`devices from the tenants file were not reconciled: ${(error as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private async ownerId(tenant: string, username: string | undefined): Promise<string | null> {
    if (!username) return null;
    const { user } = await this.identity.send(FindUser, { tenant, username });
    if (!user) throw new ContractError('validation_failed', `device owner ${username} is not a user of tenant ${tenant}`);
    return user.id;
  }

  /**
   * A declared device is created active, with its audit record and `created` event. Later starts change
   * nothing unless the file changed (then the device follows it, audited as `updated`); its lifecycle
   * (suspension, decommissioning) is not undone here, and a decommissioned device is left alone.
   */
  private async upsert(tenant: string, device: DeviceConfig, ownerId: string | null): Promise<void> {
    const declared = {
      type: device.type,
      model: device.model ?? null,
      firmwareVersion: device.firmwareVersion ?? null,
      location: device.location ?? null,
      attributes: device.attributes as Prisma.InputJsonObject,
      ownerId,
      managedBy: 'config',
    };
    const where = { tenant_serial: { tenant, serial: device.serial } };
    const at = new Date(this.clock());
    await this.store.write(async (tx) => {
      // Two replicas may start at once: the one whose insert is skipped goes on as for an existing device.
      const [created] = await tx.device.createManyAndReturn({ data: [{ tenant, serial: device.serial, status: 'active', ...declared, createdAt: at, updatedAt: at }], skipDuplicates: true });
      if (created) {
        await recordChanges(tx, { device: created, event: 'created', actor: TENANTS_FILE, at, toStatus: 'active', details: { managedBy: 'config' } });
        return;
      }
      const existing = await tx.device.findUnique({ where });
      if (!existing || existing.status === 'decommissioned') return;
      const changed = Object.fromEntries(
        (Object.keys(declared) as (keyof typeof declared)[])
          .filter((field) => JSON.stringify(existing[field]) !== JSON.stringify(declared[field]))
          .map((field) => [field, { from: existing[field], to: declared[field] }]),
      );
      if (!Object.keys(changed).length) return;
      const updated = await tx.device.update({ where, data: { ...declared, updatedAt: at } });
      await recordChanges(tx, { device: updated, event: 'updated', actor: TENANTS_FILE, at, details: { changed } });
    });
  }
}
