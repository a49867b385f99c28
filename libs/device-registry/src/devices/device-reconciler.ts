import type { DeviceConfig, TenantConfig } from '@latchkey/config';
import { ContractError, FindUser } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { DeviceDatabase } from '../device-registry.prisma.js';

const RETRY_MS = 500;
const GIVE_UP_AFTER_MS = 120_000;

/**
 * Brings the devices of the tenants file into the registry. Owners are named by username and
 * resolved through the identity service, which may start after this one: so this runs in the
 * background after boot and retries until identity answers.
 */
export class DeviceReconciler {
  private readonly logger = new Logger('DeviceReconciler');

  constructor(
    private readonly db: DeviceDatabase,
    private readonly identity: ContractClient,
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

  private async upsert(tenant: string, device: DeviceConfig, ownerId: string | null): Promise<void> {
    const data = {
      type: device.type,
      model: device.model ?? null,
      firmwareVersion: device.firmwareVersion ?? null,
      location: device.location ?? null,
      attributes: device.attributes as object,
      ownerId,
      managedBy: 'config',
    };
    // A declared device starts active; its later lifecycle (suspension, decommissioning) is not undone here.
    await this.db.prisma.device.upsert({
      where: { tenant_serial: { tenant, serial: device.serial } },
      create: { tenant, serial: device.serial, status: 'active', ...data },
      update: data,
    });
  }
}
