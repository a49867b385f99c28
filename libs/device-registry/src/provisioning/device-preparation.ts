import { randomUUID } from 'node:crypto';
import type { TenantDirectory } from '@latchkey/config';
import { type Actor, assertStorable, ContractError, type NewDevice } from '@latchkey/contracts';
import type { z } from 'zod';
import type { ClaimCodes, NewClaimCode } from '../claims/claim-codes.js';
import type { Clock } from '../clock.js';
import { credentialRow, duplicateWithin, prepareCredential } from '../credentials/credential-input.js';
import { type DeviceChange, recordChanges } from '../devices/device-changes.js';
import type { Tx } from '../devices/device-store.js';
import { sharedSecretAllowed } from '../devices/device-types.js';
import { CLAIM_CODE_TABLE, CREDENTIAL_TABLE, DEVICE_TABLE, multiRowInsert } from '../devices/multi-row-insert.js';
import { type Device, type DeviceCredential, Prisma } from '../generated/prisma/client.js';

export type ParsedNewDevice = z.output<typeof NewDevice>;

/** A new device with everything created with it, validated and ready to insert. */
export interface PreparedDevice {
  device: Device;
  credentials: DeviceCredential[];
  /** Generated shared secrets by credential id: returned once. */
  secrets: Record<string, string>;
  claimCode?: NewClaimCode;
  change: DeviceChange;
}

/**
 * Turns a `NewDevice` (one admin request or one bulk row) into rows. Everything that can be wrong with
 * a device on its own is found here, before any transaction: a secret its type may not use, a key given
 * twice, a claim code for an owned device. Whether its serial is free is the insert's business.
 */
export class DevicePreparation {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly claimCodes: ClaimCodes,
    private readonly clock: Clock,
  ) {}

  prepare(tenant: string, actor: Actor, input: ParsedNewDevice, details: Record<string, unknown> = {}): PreparedDevice {
    const tenantConfig = this.tenants.get(tenant);
    assertStorable(input);
    if (input.claimCode && input.ownerId !== undefined) throw invalid('a claim code is only for a device without an owner');
    const now = this.clock();
    const at = new Date(now);
    const context = { type: input.type, sharedSecretAllowed: sharedSecretAllowed(tenantConfig, input.type), now };
    const prepared = input.credentials.map((credential) => prepareCredential(credential, context));
    if (duplicateWithin(prepared)) throw invalid('the same key (or kid) is given twice');

    const status = input.activate ? 'active' : 'provisioned';
    const device: Device = {
      id: randomUUID(),
      tenant,
      serial: input.serial,
      type: input.type,
      model: input.model ?? null,
      firmwareVersion: input.firmwareVersion ?? null,
      location: input.location ?? null,
      attributes: input.attributes,
      ownerId: input.ownerId ?? null,
      status,
      managedBy: 'api',
      createdAt: at,
      updatedAt: at,
      lastSeenAt: null,
    };
    const credentials = prepared.map((credential) => credentialRow(tenant, device.id, credential, at));
    const secrets = Object.fromEntries(prepared.filter((c) => c.secret !== undefined).map((c) => [c.id, c.secret!]));
    const claimCode = input.claimCode ? this.claimCodes.create(tenant, device.id) : undefined;
    const change: DeviceChange = {
      device,
      event: 'created',
      actor,
      at,
      fromStatus: null,
      toStatus: status,
      reason: input.reason ?? null,
      details: { ...details, credentials: credentials.map(({ id, kind, kid, thumbprint }) => ({ id, kind, kid, thumbprint })), claimCode: claimCode !== undefined },
    };
    return { device, credentials, secrets, ...(claimCode ? { claimCode } : {}), change };
  }
}

/**
 * Inserts prepared devices, each with its credentials, claim code, audit record and `created` event,
 * in the caller's transaction and in five statements whatever their number. A device whose serial has
 * been taken meanwhile (a concurrent insert) is left out, with everything of it. Returns the ids of the
 * devices inserted.
 */
export async function insertDevices(tx: Tx, prepared: readonly PreparedDevice[]): Promise<Set<string>> {
  const inserted = await tx.$queryRaw<{ id: string }[]>(
    multiRowInsert('"devices"."device"', DEVICE_TABLE, prepared.map((p) => p.device), Prisma.sql`ON CONFLICT DO NOTHING RETURNING id`),
  );
  const ids = new Set(inserted.map((row) => row.id));
  const kept = prepared.filter((p) => ids.has(p.device.id));
  const credentials = kept.flatMap((p) => p.credentials);
  if (credentials.length) await tx.$executeRaw(multiRowInsert('"devices"."device_credential"', CREDENTIAL_TABLE, credentials));
  const claimCodes = kept.flatMap((p) => (p.claimCode ? [p.claimCode.row] : []));
  if (claimCodes.length) await tx.$executeRaw(multiRowInsert('"devices"."claim_code"', CLAIM_CODE_TABLE, claimCodes));
  await recordChanges(tx, ...kept.map((p) => p.change));
  return ids;
}

function invalid(message: string): ContractError {
  return new ContractError('validation_failed', message);
}
