import { AddDeviceCredential, BulkRowOutcome, ChangeDeviceStatus, ClaimDevice, CredentialInput, IssueClaimCode, NewDevice, PolicyBundleBase64, PolicyData, RotateSigningKey, UpdateDevice } from '@latchkey/contracts';
import { z } from 'zod';

// The HTTP bodies of the admin and device APIs, derived from the contracts' schemas so that the
// gateway refuses exactly what the registry would (and the OpenAPI document says so). Bodies are
// strict: a field the API does not know (a typo, or `status` in a PATCH) is an error, not ignored.

const Reason = ChangeDeviceStatus.request.shape.reason;

/** `POST /devices`: a `NewDevice`. */
export const CreateDeviceBody = z.strictObject(NewDevice.shape);

/** `PATCH /devices/{id}`: the fields to change (`attributes` is a JSON merge patch, RFC 7396) and why. */
export const UpdateDeviceBody = z
  .strictObject({ ...UpdateDevice.request.shape.changes.shape, reason: Reason })
  .refine(({ reason: _reason, ...changes }) => Object.keys(changes).length > 0, 'nothing to change: give model, firmwareVersion, location or attributes');

/** The optional body of a lifecycle action or a credential revocation. */
export const ReasonBody = z.strictObject({ reason: Reason });

/** `POST /devices/{id}/credentials`: a `CredentialInput`, optionally with the reason for the audit trail. */
export const AddCredentialBody = z.intersection(CredentialInput, z.object({ reason: AddDeviceCredential.request.shape.reason }));

/** `POST /devices/{id}/claim-code`: optionally, how long the code lives (default: the registry's). */
export const ClaimCodeBody = z.strictObject({ ttlSeconds: IssueClaimCode.request.shape.ttlSeconds });

/** `POST /v1/devices/claim`: the code from the device's label or QR code. */
export const ClaimBody = z.strictObject({ code: ClaimDevice.request.shape.code });

/**
 * `POST /devices/bulk` as JSON, for the document: the rows, bare or as `{ devices }`. The gateway does
 * not parse rows with it (`jsonRows`): each row is checked by the registry and rejected on its own.
 */
export const BulkJsonBody = z.union([z.array(CreateDeviceBody), z.strictObject({ devices: z.array(CreateDeviceBody) })]);

export const BulkSummary = z.object({ created: z.number().int(), skipped: z.number().int(), rejected: z.number().int() });

/** The per-row report of a bulk upload; `rows[i].row` counts from 0 = the first data row. */
export const BulkReport = z.object({ summary: BulkSummary, rows: z.array(BulkRowOutcome) });
export type BulkReport = z.infer<typeof BulkReport>;

const PolicyReason = z.string().max(500).optional().describe('Why, for the policy’s activation record');

/**
 * `PUT /policy/bundle` as JSON: the compiled bundle (`opa build -t wasm` tar.gz) base64, optionally a
 * whole new data overlay (replacing the previous one) and why.
 */
export const PolicyBundleJsonBody = z.strictObject({ bundle: PolicyBundleBase64, data: PolicyData.optional(), reason: PolicyReason });

/** `POST /policy/reset`: back to the default bundle; `clearData` also empties the admin API's data overlay. */
export const PolicyResetBody = z.strictObject({ reason: PolicyReason, clearData: z.boolean().optional().describe('Also drop every data change made through this API (default: keep them)') });

/** `PATCH /policy/data`: a JSON merge patch (RFC 7396) of the tenant's policy data overlay. */
export const PolicyDataPatch = PolicyData;

/** `POST /signing-keys/rotate`: optionally, why (recorded with the new key). */
export const RotateSigningKeyBody = z.strictObject({ reason: RotateSigningKey.request.shape.reason });
