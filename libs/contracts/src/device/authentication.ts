import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { DeviceId, DeviceView } from './device.js';

/** What the token service learns about an authenticated device: enough for the token's claims. */
export const AuthenticatedDevice = z.object({
  id: DeviceId,
  type: z.string(),
  ownerId: z.string().nullable(),
  /** The credential that proved the device's identity. */
  credentialId: z.uuid(),
});
export type AuthenticatedDevice = z.infer<typeof AuthenticatedDevice>;

/**
 * The device as an OAuth client (client_id = device id): checks a `private_key_jwt` assertion (RFC 7523:
 * signed by one of the device's active, unexpired JWKs with that key's algorithm; `iss` = `sub` = the
 * device id; `aud` one of `audiences`; short `exp`; `jti` single use) or a shared secret (only for a
 * credential of kind `secret`). Only `active` devices authenticate. Every failure is the same
 * `invalid_client`, so a caller learns nothing about which devices exist. Updates last-seen.
 */
export const AuthenticateDevice = defineRequest({
  subject: 'latchkey.device.v1.authenticate',
  request: z.object({
    tenant: TenantId,
    deviceId: DeviceId,
    proof: z.discriminatedUnion('method', [
      z.object({ method: z.literal('private_key_jwt'), assertion: z.string().min(1).max(8192), audiences: z.array(z.string().min(1).max(2048)).min(1).max(4) }),
      z.object({ method: z.literal('client_secret'), secret: z.string().min(1).max(1024) }),
    ]),
  }),
  reply: z.object({ device: AuthenticatedDevice }),
});

/**
 * RFC 8628 approval by a user of a device that has no owner yet: the user becomes its owner. A device
 * that already has an owner keeps it (`bound: false`); a decommissioned one is `conflict`.
 */
export const BindDeviceOwner = defineRequest({
  subject: 'latchkey.device.v1.bind-owner',
  request: z.object({ tenant: TenantId, deviceId: DeviceId, userId: z.string().min(1).max(200) }),
  reply: z.object({ device: DeviceView, bound: z.boolean() }),
});
