import {
  AddDeviceCredential,
  ChangeDeviceStatus,
  ClaimDevice,
  CreateDevice,
  DEVICE_STATUSES,
  GetDevice,
  GetDeviceAudit,
  IssueClaimCode,
  ListDevices,
  RevokeDeviceCredential,
  UpdateDevice,
} from '@latchkey/contracts';
import type { z } from 'zod';
import type { AccessRequirement } from '../auth/token-guard.js';
import { AddCredentialBody, BulkJsonBody, BulkReport, ClaimBody, ClaimCodeBody, CreateDeviceBody, ReasonBody, UpdateDeviceBody } from './schemas.js';

// The one table of the bearer-protected HTTP APIs: the controllers take their method, path, status
// and access requirement from it (`@ApiRoute`), and the OpenAPI document is generated from it, so a
// route cannot exist without its documentation nor the other way round (openapi.spec.ts proves it).

export const SCOPES = {
  read: 'devices:read',
  write: 'devices:write',
  claim: 'devices:claim',
} as const;

/** What each scope allows, for the OpenAPI security scheme. */
export const SCOPE_PURPOSES: Readonly<Record<string, string>> = {
  [SCOPES.read]: 'Read devices, their credentials and audit trails',
  [SCOPES.write]: 'Create, change, provision in bulk and retire devices',
  [SCOPES.claim]: 'Claim a device with its claim code (a person)',
};

export type HttpMethod = 'GET' | 'POST' | 'PATCH';

/** A hand-written OpenAPI parameter (query strings are not zod objects at the boundary). */
export interface QueryParameter {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

export interface BodySpec {
  /** Name of the schema in `components.schemas`. */
  name: string;
  schema: z.ZodType;
  mediaTypes: readonly string[];
  required: boolean;
  description?: string;
}

export interface ReplySpec {
  /** Name and schema in `components.schemas`; a reply without one is documented as any JSON object. */
  name?: string;
  schema?: z.ZodType;
  description: string;
  /** Other representations of the same reply (e.g. the bulk report as `text/csv`). */
  alternatives?: Readonly<Record<string, { description: string }>>;
  /** Response headers, by name, with their description. */
  headers?: Readonly<Record<string, string>>;
}

export interface ApiOperation {
  operationId: string;
  method: HttpMethod;
  /** The Nest route under the root `t/:tenant/`, e.g. `admin/v1/devices/:id`. */
  path: string;
  tag: 'devices' | 'claim' | 'self' | 'meta';
  summary: string;
  description?: string;
  /** Who may call; `null` for a public document. */
  access: AccessRequirement | null;
  status: number;
  query?: readonly QueryParameter[];
  body?: BodySpec;
  reply: ReplySpec;
  /** A larger request body than the gateway's default (64 KB) for this route only. */
  bodyLimit?: number;
  /** Problem statuses this operation answers besides the ones every protected route may (401, 403, 404 tenant, 503). */
  problems: readonly number[];
}

const read: AccessRequirement = { scopes: [SCOPES.read] };
const write: AccessRequirement = { scopes: [SCOPES.write] };

/** A 10,000-row CSV with keys fits comfortably; anything larger is refused before it is read. */
export const BULK_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

const DEVICES = 'admin/v1/devices';
const DEVICE = `${DEVICES}/:id`;
const JSON_ONLY = ['application/json'] as const;

const reasonBody: BodySpec = { name: 'ReasonRequest', schema: ReasonBody, mediaTypes: JSON_ONLY, required: false, description: 'Optional: why, for the audit trail. Send no body (and no Content-Type) to give no reason.' };

const PAGE: readonly QueryParameter[] = [
  { name: 'limit', description: 'Page size, 1–500 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
  { name: 'cursor', description: 'The `nextCursor` of the previous page (also in its `Link: rel="next"` header).', schema: { type: 'string', maxLength: 200 } },
];

const PAGE_HEADERS = { Link: 'RFC 8288 `<…>; rel="next"` to the next page, absent on the last page' };

function action(name: 'activate' | 'suspend' | 'reactivate' | 'decommission', summary: string): ApiOperation {
  return {
    operationId: `${name}Device`,
    method: 'POST',
    path: `${DEVICE}/${name}`,
    tag: 'devices',
    summary,
    description: 'An illegal transition for the current status is a 409 whose `details` carry `from` and `action`.',
    access: write,
    status: 200,
    body: reasonBody,
    reply: { name: 'DeviceReply', schema: ChangeDeviceStatus.reply, description: 'The device after the change' },
    problems: [404, 409, 415, 422],
  };
}

export const OPERATIONS = {
  createDevice: {
    operationId: 'createDevice',
    method: 'POST',
    path: DEVICES,
    tag: 'devices',
    summary: 'Create a device',
    description: 'With `claimCode: true` the reply carries a one-time claim code, and for each `secret` credential the generated secret (in `secrets`, by credential id): shown this once only.',
    access: write,
    status: 201,
    body: { name: 'NewDevice', schema: CreateDeviceBody, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'CreatedDevice', schema: CreateDevice.reply, description: 'The new device', headers: { Location: 'The URL of the new device' } },
    problems: [400, 409, 415, 422],
  },
  listDevices: {
    operationId: 'listDevices',
    method: 'GET',
    path: DEVICES,
    tag: 'devices',
    summary: 'List devices',
    description: 'Newest first, filtered; every filter may be given once and unknown parameters are refused.',
    access: read,
    status: 200,
    query: [
      { name: 'status', description: 'Only devices in this status.', schema: { type: 'string', enum: [...DEVICE_STATUSES] } },
      { name: 'type', description: 'Only devices of this type (a slug such as `bike-lock`).', schema: { type: 'string', maxLength: 100 } },
      { name: 'owner', description: 'Only devices of this user (user id), or `none` for devices without an owner.', schema: { type: 'string', maxLength: 200 } },
      {
        name: 'attr.{name}',
        description:
          'Repeat with different names, e.g. `attr.site=berlin&attr.floor=3`: only devices having every given attribute value. `true`/`false` are booleans, a JSON number is a number, a value in double quotes is a string (`attr.code="007"`), anything else the string as written.',
        schema: { type: 'string' },
      },
      ...PAGE,
    ],
    reply: { name: 'DevicePage', schema: ListDevices.reply, description: 'A page of devices', headers: PAGE_HEADERS },
    problems: [400],
  },
  getDevice: {
    operationId: 'getDevice',
    method: 'GET',
    path: DEVICE,
    tag: 'devices',
    summary: 'Get a device and its credentials',
    access: read,
    status: 200,
    reply: { name: 'DeviceWithCredentials', schema: GetDevice.reply, description: 'The device and its credentials (public parts only)' },
    problems: [404],
  },
  updateDevice: {
    operationId: 'updateDevice',
    method: 'PATCH',
    path: DEVICE,
    tag: 'devices',
    summary: 'Change a device’s descriptive fields',
    description: '`model`, `firmwareVersion` and `location` are replaced (null clears them); `attributes` is a JSON merge patch (RFC 7396): a null value removes the attribute. A decommissioned device is final (409).',
    access: write,
    status: 200,
    body: { name: 'DeviceChanges', schema: UpdateDeviceBody, mediaTypes: ['application/json', 'application/merge-patch+json'], required: true },
    reply: { name: 'DeviceReply', schema: UpdateDevice.reply, description: 'The device after the change' },
    problems: [400, 404, 409, 415, 422],
  },
  activateDevice: action('activate', 'Activate a provisioned device'),
  suspendDevice: action('suspend', 'Suspend an active device (its live tokens stop working at once)'),
  reactivateDevice: action('reactivate', 'Reactivate a suspended device'),
  decommissionDevice: action('decommission', 'Decommission a device (final; its credentials are destroyed)'),
  addCredential: {
    operationId: 'addDeviceCredential',
    method: 'POST',
    path: `${DEVICE}/credentials`,
    tag: 'devices',
    summary: 'Add a credential to a device',
    description: 'A public JWK, an X.509 certificate thumbprint, or a generated shared secret (returned once in `secret`).',
    access: write,
    status: 201,
    body: { name: 'NewCredential', schema: AddCredentialBody, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'AddedCredential', schema: AddDeviceCredential.reply, description: 'The new credential' },
    problems: [400, 404, 409, 415, 422],
  },
  revokeCredential: {
    operationId: 'revokeDeviceCredential',
    method: 'POST',
    path: `${DEVICE}/credentials/:credentialId/revoke`,
    tag: 'devices',
    summary: 'Revoke a device credential (the device’s live tokens stop working at once)',
    access: write,
    status: 200,
    body: reasonBody,
    reply: { name: 'RevokedCredential', schema: RevokeDeviceCredential.reply, description: 'The revoked credential' },
    problems: [404, 409, 415, 422],
  },
  deviceAudit: {
    operationId: 'getDeviceAudit',
    method: 'GET',
    path: `${DEVICE}/audit`,
    tag: 'devices',
    summary: 'A device’s audit trail, newest first',
    access: read,
    status: 200,
    query: PAGE,
    reply: { name: 'AuditPage', schema: GetDeviceAudit.reply, description: 'A page of audit records', headers: PAGE_HEADERS },
    problems: [400, 404],
  },
  issueClaimCode: {
    operationId: 'issueClaimCode',
    method: 'POST',
    path: `${DEVICE}/claim-code`,
    tag: 'devices',
    summary: 'Issue a new claim code for a device without an owner',
    description: 'The code is shown this once (only its hash is stored); any earlier code stops working. `qrPayload` is what to print as a QR code.',
    access: write,
    status: 201,
    body: { name: 'ClaimCodeRequest', schema: ClaimCodeBody, mediaTypes: JSON_ONLY, required: false },
    reply: { name: 'IssuedClaimCode', schema: IssueClaimCode.reply, description: 'The claim code' },
    problems: [404, 409, 415, 422],
  },
  bulkProvision: {
    operationId: 'bulkProvisionDevices',
    method: 'POST',
    path: `${DEVICES}/bulk`,
    tag: 'devices',
    summary: 'Provision up to 10,000 devices in one call (JSON or CSV)',
    description: [
      'The body is JSON (an array of `NewDevice` rows, or `{ "devices": [...] }`) or `text/csv` (RFC 4180, a header row, at most 16 MB).',
      'CSV columns: `serial` and `type` (required), `model`, `firmwareVersion`, `location`, `ownerId`, `reason` (text); `activate`, `claimCode`, `secret` (true/false, yes/no or 1/0: `secret` adds a generated shared secret); `jwk` (a public JWK as JSON); `x509Thumbprint`; `attr.<name>` (an attribute, typed as in the list filter). Empty cells are absent; spaces around a cell are ignored; any other column is refused.',
      'Each row is created with its credentials, or skipped (the serial exists: a re-sent row is `skipped`, so retrying an upload is safe), or rejected with the reason; rows never affect one another. `row` counts data rows from 0 (the first row after the CSV header, the first array element). `Accept: text/csv` gets the report as CSV.',
      'If the registry stops answering mid-upload the answer is a 503 problem whose `summary` and `rows` report what was done: rows not listed were not confirmed; send them (or the whole upload) again.',
    ].join('\n\n'),
    access: write,
    status: 200,
    bodyLimit: BULK_BODY_LIMIT_BYTES,
    body: { name: 'BulkDevices', schema: BulkJsonBody, mediaTypes: ['application/json', 'text/csv'], required: true },
    reply: { name: 'BulkReport', schema: BulkReport, description: 'The per-row report', alternatives: { 'text/csv': { description: 'The report as CSV: row,outcome,serial,deviceId,reason,claimCode,claimCodeExpiresAt,qrPayload,secrets' } } },
    problems: [400, 413, 415, 422],
  },
  claimDevice: {
    operationId: 'claimDevice',
    method: 'POST',
    path: 'v1/devices/claim',
    tag: 'claim',
    summary: 'Claim a device with its claim code (as the signed-in person)',
    description: 'A person’s token (not an app’s or a device’s) with `devices:claim`. Unknown, expired, used and throttled codes all fail alike (400); repeated failures are throttled per user and per client IP.',
    access: { scopes: [SCOPES.claim], actors: ['user'] },
    status: 200,
    body: { name: 'ClaimRequest', schema: ClaimBody, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'ClaimedDevice', schema: ClaimDevice.reply, description: 'The device, now owned by the caller' },
    problems: [400, 415, 422, 429],
  },
  getOwnDevice: {
    operationId: 'getOwnDevice',
    method: 'GET',
    path: 'v1/devices/me',
    tag: 'self',
    summary: 'The calling device’s own registration',
    description: 'A device’s own token (client credentials, client_id = its device id). A device that is suspended or decommissioned, or whose key was revoked, has no live token: 401.',
    access: { scopes: [], actors: ['device'] },
    status: 200,
    reply: { name: 'DeviceWithCredentials', schema: GetDevice.reply, description: 'The device and its credentials (public parts only)' },
    problems: [],
  },
  openApi: {
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: 'admin/v1/openapi.json',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    access: null,
    status: 200,
    reply: { description: 'The OpenAPI document of this tenant’s device APIs' },
    problems: [],
  },
} as const satisfies Record<string, ApiOperation>;

export type OperationName = keyof typeof OPERATIONS;
