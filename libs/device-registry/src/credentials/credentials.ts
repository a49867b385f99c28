import type { TenantDirectory } from '@latchkey/config';
import { type Actor, ContractError, type CredentialView } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import { recordChanges } from '../devices/device-changes.js';
import type { DeviceStore } from '../devices/device-store.js';
import { sharedSecretAllowed } from '../devices/device-types.js';
import { credentialView, statusOf } from '../devices/device-views.js';
import { assertChangeable } from '../devices/lifecycle.js';
import { CREDENTIAL_TABLE, multiRowInsert } from '../devices/multi-row-insert.js';
import { credentialRow, identities, type ParsedCredentialInput, prepareCredential } from './credential-input.js';

/**
 * A device's credentials after creation. Rotation with overlap is adding the new key, letting devices
 * move to it, then revoking the old one: while both are active, both authenticate.
 */
export class Credentials {
  constructor(
    private readonly store: DeviceStore,
    private readonly tenants: TenantDirectory,
    private readonly clock: Clock,
  ) {}

  async add(tenant: string, actor: Actor, deviceId: string, input: ParsedCredentialInput, reason?: string): Promise<{ credential: CredentialView; secret?: string }> {
    const tenantConfig = this.tenants.get(tenant);
    // The device's type (it never changes) decides whether a shared secret is allowed.
    const { type } = await this.store.find(tenant, deviceId);
    const prepared = prepareCredential(input, { type, sharedSecretAllowed: sharedSecretAllowed(tenantConfig, type), now: this.clock() });
    const at = new Date(this.clock());
    const row = await this.store.write(async (tx) => {
      const device = await this.store.lock(tx, tenant, deviceId);
      assertChangeable(statusOf(device), 'add-credential');
      const existing = await tx.deviceCredential.findMany({ where: { tenant, deviceId }, select: { kind: true, thumbprint: true, kid: true, status: true } });
      const taken = new Set(existing.flatMap((c) => (c.status === 'active' ? identities(c) : identities({ ...c, kid: null }))));
      if (identities(prepared).some((identity) => taken.has(identity))) throw alreadyRegistered();
      const row = credentialRow(tenant, deviceId, prepared, at);
      await tx.$executeRaw(multiRowInsert('"devices"."device_credential"', CREDENTIAL_TABLE, [row]));
      await recordChanges(tx, {
        device,
        event: 'credential_added',
        actor,
        at,
        reason: reason ?? null,
        credentialId: row.id,
        details: { kind: row.kind, kid: row.kid, thumbprint: row.thumbprint, expiresAt: row.expiresAt?.toISOString() ?? null },
      });
      return row;
    });
    return { credential: credentialView(row), ...(prepared.secret ? { secret: prepared.secret } : {}) };
  }

  /** Revokes one credential (its device's live tokens go with it: event `credential_revoked`); revoking it again changes nothing. */
  async revoke(tenant: string, actor: Actor, deviceId: string, credentialId: string, reason?: string): Promise<CredentialView> {
    this.tenants.get(tenant);
    const at = new Date(this.clock());
    return this.store.write(async (tx) => {
      const device = await this.store.lock(tx, tenant, deviceId);
      const credential = await tx.deviceCredential.findFirst({ where: { id: credentialId, tenant, deviceId } });
      if (!credential) throw new ContractError('not_found', 'no such credential');
      if (credential.status === 'revoked') return credentialView(credential);
      // A revoked secret's hash is of no use to anyone: it goes. A public key stays, for the record.
      const revoked = await tx.deviceCredential.update({ where: { id: credential.id }, data: { status: 'revoked', revokedAt: at, secretHash: null } });
      await recordChanges(tx, { device, event: 'credential_revoked', actor, at, reason: reason ?? null, credentialId: credential.id, details: { kind: credential.kind, kid: credential.kid } });
      return credentialView(revoked);
    });
  }
}

function alreadyRegistered(): ContractError {
  return new ContractError('conflict', 'this key (or its kid) is already registered for the device');
}
