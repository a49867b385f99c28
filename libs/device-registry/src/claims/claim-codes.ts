import { issuerOf } from '@latchkey/config';
import type { TenantDirectory } from '@latchkey/config';
import { type Actor, type ClaimCodeView, ContractError, type DeviceView } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import { recordChanges } from '../devices/device-changes.js';
import type { DeviceStore } from '../devices/device-store.js';
import { deviceView, statusOf } from '../devices/device-views.js';
import { assertChangeable } from '../devices/lifecycle.js';
import type { NewClaimCodeRow } from '../devices/multi-row-insert.js';
import { claimCodeHash, formatClaimCode, generateClaimCode, normaliseClaimCode } from './claim-code-format.js';
import type { ClaimThrottle } from './claim-throttle.js';

export const DEFAULT_CLAIM_CODE_TTL_SECONDS = 7 * 86_400;

/** A code as it is stored (hash only) and as it is shown once. */
export interface NewClaimCode {
  row: NewClaimCodeRow;
  view: ClaimCodeView;
}

/** Unknown, malformed, expired, spent, throttled, unclaimable: all the same answer. */
function notValid(): ContractError {
  return new ContractError('invalid_grant', 'the claim code is not valid');
}

/**
 * One-time claim codes that let a signed-in user become the owner of an unowned device (printed on
 * the box as text and QR). 80 random bits, stored as SHA-256 with their device and expiry; a device has
 * at most one (a new one replaces the old). Redeeming is one conditional UPDATE, so of two concurrent
 * claims exactly one wins. Guessing is throttled per user and per client address (ClaimThrottle).
 */
export class ClaimCodes {
  constructor(
    private readonly store: DeviceStore,
    private readonly tenants: TenantDirectory,
    private readonly throttle: ClaimThrottle,
    private readonly publicUrl: string,
    private readonly clock: Clock,
    private readonly defaultTtlSeconds = DEFAULT_CLAIM_CODE_TTL_SECONDS,
  ) {}

  /** A fresh code for a device (not yet stored). */
  create(tenant: string, deviceId: string, ttlSeconds = this.defaultTtlSeconds): NewClaimCode {
    const canonical = generateClaimCode();
    const now = this.clock();
    const expiresAt = new Date(now + ttlSeconds * 1000);
    const code = formatClaimCode(canonical);
    return {
      row: { tenant, deviceId, codeHash: claimCodeHash(canonical), expiresAt, createdAt: new Date(now) },
      view: { code, expiresAt: expiresAt.toISOString(), qrPayload: `${issuerOf(this.publicUrl, tenant)}/claim?code=${code}` },
    };
  }

  /** A new code for an unowned device; any earlier code stops working. */
  async issue(tenant: string, actor: Actor, deviceId: string, ttlSeconds?: number): Promise<ClaimCodeView> {
    this.tenants.get(tenant);
    const code = this.create(tenant, deviceId, ttlSeconds);
    await this.store.write(async (tx) => {
      const device = await this.store.lock(tx, tenant, deviceId);
      assertChangeable(statusOf(device), 'issue-claim-code');
      if (device.ownerId !== null) throw new ContractError('conflict', 'the device already has an owner: claim codes are for unowned devices');
      const { tenant: _t, deviceId: _d, ...fresh } = code.row;
      await tx.claimCode.upsert({ where: { tenant_deviceId: { tenant, deviceId } }, create: code.row, update: { ...fresh, usedAt: null, usedBy: null } });
      await recordChanges(tx, { device, event: 'claim_code_issued', actor, at: new Date(this.clock()), details: { expiresAt: code.view.expiresAt } });
    });
    return code.view;
  }

  /** The user presenting `code` becomes the owner of its device. */
  async claim(tenant: string, userId: string, code: string, clientIp: string): Promise<DeviceView> {
    this.tenants.get(tenant);
    if (!(await this.throttle.admit(tenant, userId, clientIp))) throw notValid();
    const canonical = normaliseClaimCode(code);
    const device = canonical ? await this.redeem(tenant, userId, canonical) : null;
    if (!device) throw notValid();
    await this.throttle.succeeded(tenant, userId, clientIp);
    return device;
  }

  private redeem(tenant: string, userId: string, canonical: string): Promise<DeviceView | null> {
    const at = new Date(this.clock());
    return this.store.write(async (tx) => {
      // The consuming UPDATE is the check: of two concurrent claims, the second finds used_at set.
      const [spent] = await tx.claimCode.updateManyAndReturn({
        where: { tenant, codeHash: claimCodeHash(canonical), usedAt: null, expiresAt: { gt: at } },
        data: { usedAt: at, usedBy: userId },
        select: { deviceId: true },
      });
      if (!spent) return null;
      const device = await this.store.lock(tx, tenant, spent.deviceId);
      // Bound meanwhile (device flow) or decommissioned: the code is spent and claims nothing.
      if (device.ownerId !== null || device.status === 'decommissioned') return null;
      const claimed = await tx.device.update({ where: { id: device.id }, data: { ownerId: userId, updatedAt: at } });
      await recordChanges(tx, { device: claimed, event: 'claimed', actor: { type: 'user', id: userId }, at, details: { via: 'claim_code' } });
      return deviceView(claimed);
    });
  }
}
