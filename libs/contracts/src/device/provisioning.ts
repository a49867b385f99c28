import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { Actor, ClaimCodeView, DeviceId, DeviceView } from './device.js';

/** Rows per bulk request on NATS; the gateway splits a 10,000-row upload into chunks of this size. */
export const BULK_CHUNK_ROWS = 500;
/** Rows per upload on the admin API. */
export const BULK_MAX_ROWS = 10_000;

export const BulkRowOutcome = z.discriminatedUnion('outcome', [
  z.object({ row: z.number().int().nonnegative(), outcome: z.literal('created'), serial: z.string(), deviceId: DeviceId, claimCode: ClaimCodeView.optional(), secrets: z.record(z.string(), z.string()).optional() }),
  z.object({ row: z.number().int().nonnegative(), outcome: z.literal('skipped'), serial: z.string(), deviceId: DeviceId, reason: z.string() }),
  z.object({ row: z.number().int().nonnegative(), outcome: z.literal('rejected'), serial: z.string().nullable(), reason: z.string() }),
]);
export type BulkRowOutcome = z.infer<typeof BulkRowOutcome>;

/**
 * Provisions many devices. Each row is validated on its own (as `NewDevice`) and created with its
 * credentials and audit record, or not at all: a bad row is `rejected` with the reason, an existing
 * serial `skipped` as a duplicate, and neither disturbs the other rows. `firstRow` numbers the rows of
 * a chunk within the whole upload.
 */
export const BulkProvisionDevices = defineRequest({
  subject: 'latchkey.device.v1.bulk-provision',
  request: z.object({
    tenant: TenantId,
    actor: Actor,
    rows: z.array(z.unknown()).min(1).max(BULK_CHUNK_ROWS),
    firstRow: z.number().int().nonnegative().default(0),
  }),
  reply: z.object({ rows: z.array(BulkRowOutcome) }),
});

/** Issues a new one-time claim code for an unowned device (any earlier code stops working). */
export const IssueClaimCode = defineRequest({
  subject: 'latchkey.device.v1.issue-claim-code',
  request: z.object({ tenant: TenantId, actor: Actor, deviceId: DeviceId, ttlSeconds: z.number().int().min(60).max(30 * 86_400).optional() }),
  reply: z.object({ claimCode: ClaimCodeView }),
});

/**
 * A signed-in user presents a claim code and becomes the device's owner. Unknown, expired, spent and
 * throttled codes all fail with the same `invalid_grant` ("not valid"), so a guesser learns nothing;
 * failures count per user and per client IP, and past the limit even a right code fails until the
 * window ends.
 */
export const ClaimDevice = defineRequest({
  subject: 'latchkey.device.v1.claim',
  request: z.object({
    tenant: TenantId,
    userId: z.string().min(1).max(200),
    code: z.string().min(1).max(64),
    clientIp: z.string().min(1).max(100),
  }),
  reply: z.object({ device: DeviceView }),
});
