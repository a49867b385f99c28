import {
  AddDeviceCredential,
  ChangeDeviceStatus,
  ClaimDevice,
  CreateDevice,
  CreateGrant,
  DeclineGrant,
  DEVICE_STATUSES,
  GetDevice,
  GetDeviceAudit,
  GetGrant,
  GetPolicyStatus,
  GRANT_STATUSES,
  IssueClaimCode,
  ListDevices,
  ListGrants,
  ListSigningKeys,
  type PolicyAction,
  RevokeDeviceCredential,
  RevokeGrant,
  RotateSigningKey,
  UpdateDevice,
} from '@latchkey/contracts';
import type { z } from 'zod';
import type { AccessRequirement } from '../auth/token-guard.js';
import { EvaluationRequest, EvaluationResponse, EvaluationsRequest, EvaluationsResponse } from '../authzen/schemas.js';
import { CreateGrantBody } from '../delegations/schemas.js';
import type { PolicyRule, RoutePolicy } from '../policy/route-policy.js';
import { COMMAND_SCOPES, CommandReply, type DeviceCommand } from '../resources/commands.js';
import { RAW_BODY_MEDIA_TYPES } from '../http/api-bodies.js';
import {
  AddCredentialBody,
  BulkJsonBody,
  BulkReport,
  ClaimBody,
  ClaimCodeBody,
  CreateDeviceBody,
  PolicyBundleJsonBody,
  PolicyDataPatch,
  PolicyResetBody,
  ReasonBody,
  RotateSigningKeyBody,
  UpdateDeviceBody,
} from './schemas.js';

// The one table of the bearer-protected HTTP APIs: the controllers take their method, path, status
// and access requirement from it (`@ApiRoute`), and the OpenAPI document is generated from it, so a
// route cannot exist without its documentation nor the other way round (openapi.spec.ts proves it).

export const SCOPES = {
  read: 'devices:read',
  write: 'devices:write',
  claim: 'devices:claim',
  delegationsRead: 'delegations:read',
  delegationsWrite: 'delegations:write',
  delegationsAdmin: 'delegations:admin',
  /** Not a route's scope: with it, userinfo carries the `delegations` claim. */
  delegationsClaim: 'delegations',
  unlock: 'lock:unlock',
  configure: 'lock:configure',
  /** A policy enforcement point (an app) asking the decision point through AuthZEN. */
  accessEvaluate: 'access:evaluate',
  /** The tenant's policy: its status (which bundle and data decide). */
  policyRead: 'policy:read',
  /** The tenant's policy: replace the bundle, change the data, reset to the default. Administrators only. */
  policyWrite: 'policy:write',
  /** The tenant's signing keys: their ids, algorithms, states and times (never private material). */
  keysRead: 'keys:read',
  /** The tenant's signing keys: rotate them (docs/adr/0010). */
  keysWrite: 'keys:write',
} as const;

/** What each scope allows, for the OpenAPI security scheme. */
export const SCOPE_PURPOSES: Readonly<Record<string, string>> = {
  [SCOPES.read]: 'Read devices, their credentials and audit trails',
  [SCOPES.write]: 'Create, change, provision in bulk and retire devices',
  [SCOPES.claim]: 'Claim a device with its claim code (a person)',
  [SCOPES.delegationsRead]: 'See what you shared and what was shared with you (a person)',
  [SCOPES.delegationsWrite]: 'Share your devices, revoke what you shared, decline what was shared with you (a person)',
  [SCOPES.delegationsAdmin]: 'Revoke any delegation grant of the tenant (administrators)',
  [SCOPES.delegationsClaim]: 'Userinfo carries the `delegations` claim: a delegated access token per grant shared with you',
  [SCOPES.unlock]: 'Lock and unlock your locks (or one shared with you)',
  [SCOPES.configure]: 'Configure your locks (or one shared with you)',
  [SCOPES.accessEvaluate]: 'Ask the policy decision point for access decisions (OpenID AuthZEN; a resource server acting as policy enforcement point)',
  [SCOPES.policyRead]: 'See which policy bundle and data decide for the tenant',
  [SCOPES.policyWrite]: 'Replace or reset the tenant’s authorization policy and change its data (administrators only: whoever holds it decides who may do what)',
  [SCOPES.keysRead]: 'See the tenant’s signing keys: ids, algorithms, states and when they sign or stop being published',
  [SCOPES.keysWrite]: 'Rotate the tenant’s signing keys (with the policy’s `keys.rotate`: administrators)',
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** A path parameter other than a UUID id (the default): what it is and its JSON Schema. */
export interface PathParameter {
  description: string;
  schema: Record<string, unknown>;
}

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
  tag: 'devices' | 'claim' | 'self' | 'delegations' | 'commands' | 'access' | 'policy' | 'keys' | 'meta';
  summary: string;
  description?: string;
  /** Path parameters that are not UUID ids, by name (`:name` in `path`). */
  params?: Readonly<Record<string, PathParameter>>;
  /** Who may call; `null` for a public document. */
  access: AccessRequirement | null;
  /**
   * The policy step after the token check: the action the decision point is asked about and what it
   * is done to, or why the route asks no policy. Required behind the guard (`null` only for a public
   * route): `@ApiRoute` refuses anything else when the gateway boots.
   */
  policy: RoutePolicy | null;
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

/** The policy rule of a device admin route: `action` on the path's device. */
const onDevice = (action: PolicyRule['action']): PolicyRule => ({ action, resource: 'device' });

/** Why the delegations API asks no policy: people manage what is their own, and the delegation service checks that. */
const SHARING_EXEMPTION: RoutePolicy = {
  exempt: 'a person manages their own grants: the delegation service checks ownership, scopes and who may see or end a grant (ADR 0018, ADR 0020)',
};

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

/**
 * The delegations API is a person's own: their token (authorization-code flow), never an app's or a
 * device's, and never a delegated one (the default) — Bianca may not share "as Adam".
 */
const sharing = (scope: string): AccessRequirement => ({ scopes: [scope], actors: ['user'] });
const DELEGATIONS = 'v1/delegations';
const GRANT = `${DELEGATIONS}/:id`;
const GRANT_ID: Readonly<Record<string, PathParameter>> = { id: { description: 'The grant id (UUID; anything else is a 404)', schema: { type: 'string', format: 'uuid' } } };

/**
 * A compiled bundle is at most ~700 KiB (the contract's base64 limit); as JSON it may come with a data
 * overlay of up to 256 KiB. Anything larger is refused before it is read.
 */
export const POLICY_BUNDLE_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

const POLICY = 'admin/v1/policy';

/** Tenant administration (policy, signing keys): an administrator's app (client credentials) or person, never a device, never a delegated token. */
const administrator = (scope: string): AccessRequirement => ({ scopes: [scope], actors: ['client', 'user'] });

/**
 * Why the policy administration routes ask no policy. The scope is the permission until the default
 * policy has `policy.*` actions; and a policy deciding who may replace it could lock every
 * administrator out of repairing it (a bundle that denies everything).
 */
const POLICY_ADMIN_EXEMPTION: RoutePolicy = {
  exempt:
    'policy administration is gated by the `policy:read` / `policy:write` scopes, which only administrators’ clients are given: the default policy has no `policy.*` actions, and a tenant policy deciding who may replace it could lock every administrator out of repairing it (ADR 0018, ADR 0022)',
};

const POLICY_STATUS_REPLY: ReplySpec = { name: 'PolicyStatus', schema: GetPolicyStatus.reply, description: 'The tenant’s active policy after the change: bundle and data versions, `policyVersion`, the last refused activation' };

const POLICY_VALIDATION =
  'The candidate is loaded and asked smoke decisions before it replaces the active policy; a bundle or data that fails is a 422 whose `detail` says why (also in the status’s `lastRejected`), and the active policy keeps serving. Every replica of the policy service switches without a restart. Decisions the gateway cached (allows with a TTL, at most 5 minutes) may outlive the change on the other gateway replicas for that long.';

const SIGNING_KEYS = 'admin/v1/signing-keys';

/** The policy actions of the signing-key routes (policies/data.json; the default policy lets `admin` do them). */
const KEY_ACTIONS = { read: 'keys.read', rotate: 'keys.rotate' } as const satisfies Record<string, PolicyAction>;

const DEVICE_REF: Readonly<Record<string, PathParameter>> = {
  idOrSerial: { description: 'The device id (a UUID) or its serial (anything else; e.g. `lock-1`). A device of another tenant is not found.', schema: { type: 'string', minLength: 1, maxLength: 200 } },
};

/** AuthZEN callers: policy enforcement points, i.e. apps with `access:evaluate` (client credentials). */
const evaluator: AccessRequirement = { scopes: [SCOPES.accessEvaluate], actors: ['client'] };

const AUTHZEN_EXEMPTION: RoutePolicy = { exempt: 'the caller is a policy enforcement point asking the decision point itself: `access:evaluate` is its permission' };

const AUTHZEN_DESCRIPTION = [
  'OpenID AuthZEN Authorization API 1.0 (metadata: `/.well-known/authzen-configuration/t/{tenant}`). The caller is a policy enforcement point: an app’s token (client credentials) with `access:evaluate`. The tenant’s policy decides (policies/README.md: actions, roles, attributes).',
  'Mapping: `subject.type` is `user` (id: the user id, the `sub` of their tokens), `client` or `device` (id: the device id). The platform adds what it knows — a person’s roles and attributes (e.g. `sites`), an app’s roles, a device’s type and site — and wins over a property of the same name. `subject.properties.roles` and `.scopes` go to the policy as given (with `scopes`, the action’s scope must be among them); `.act` with `.gid` make a delegated subject whose grant is checked now; anything else is an attribute. `action.name` is a policy action (`devices.read`, `device.command.unlock`, `device.telemetry.publish`…). A `device` resource is looked up by id or serial and described by the registry (`*` is every device of the tenant); `tenant` and `scope` resources are taken as given, their `properties` as attributes. `context.time` decides as of then; `ip` / `ip_address` is the client address; other members are context attributes.',
  'A denial is `decision: false` with `context.reason_admin.en`: the policy’s reasons, for administrators (not to be shown to end users). A decision point that cannot be asked is a 503, never a decision.',
].join('\n\n');

/**
 * The demo resource endpoint: a person's own token, or a delegated token (Bianca acting for Adam,
 * checked against its grant at every use). Who may command which device is the policy's (the route's
 * action); `resources/command-access.ts` checks that a delegated token is for this device.
 */
function command(name: DeviceCommand, operationId: string, summary: string): ApiOperation {
  return {
    operationId,
    method: 'POST',
    path: `v1/devices/:idOrSerial/commands/${name}`,
    tag: 'commands',
    summary,
    description: [
      `Needs \`${COMMAND_SCOPES[name]}\`. The policy decides who may command which device: by default the device's owner (role \`device-owner\`), a \`controller\` device at its site, an operator for \`configure\` at their sites, an \`admin\`. With a delegated token (RFC 8693 token exchange, or an entry of userinfo's \`delegations\` claim) the policy decides for the person acted for (\`sub\`), narrowed by the grant (its window, weekdays, time of day, resource and scopes), and the token's \`aud\` must name the device (\`device:<serial>\`): a grant on \`*\` shares the delegator's account, not their devices. The grant is checked again now (revoked, expired or outside its time window: 401).`,
      'The command is recorded in the device’s audit trail with the acting party as `actor`, the person acted for as `onBehalfOf` and the grant (the policy’s `audit` obligation; the reply’s `act` is the whole actor chain). A device that is not active takes no commands (403 `device_not_active` from the policy; 409 if it changed in between). Unknown commands are 404.',
    ].join('\n\n'),
    params: DEVICE_REF,
    access: { scopes: [COMMAND_SCOPES[name]], delegated: 'accept' },
    // `lock` needs what `unlock` needs: whoever may open a lock may close it.
    policy: { action: name === 'configure' ? 'device.command.configure' : 'device.command.unlock', resource: 'device' },
    status: 200,
    reply: { name: 'CommandReceipt', schema: CommandReply, description: 'The recorded command' },
    problems: [409],
  };
}

const LIFECYCLE_ACTIONS = { activate: 'devices.activate', suspend: 'devices.suspend', reactivate: 'devices.activate', decommission: 'devices.decommission' } as const;

function action(name: keyof typeof LIFECYCLE_ACTIONS, summary: string): ApiOperation {
  return {
    operationId: `${name}Device`,
    method: 'POST',
    path: `${DEVICE}/${name}`,
    tag: 'devices',
    summary,
    description: 'An illegal transition for the current status is a 409 whose `details` carry `from` and `action`.',
    access: write,
    policy: onDevice(LIFECYCLE_ACTIONS[name]),
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
    policy: { action: 'devices.create', resource: 'new-device' },
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
    description: [
      'Newest first, filtered; every filter may be given once and unknown parameters are refused.',
      'The policy decides on `{ type: "device", id: "*" }`: listing the whole tenant needs a tenant-wide role (`admin`, `viewer`). A site- or owner-scoped role gets a 403 for it; it may list what its role covers by narrowing the list: `owner=<your user id>` (a `device-owner`) or `attr.site=<one of your sites>` (an `operator`) is decided on a resource with that `ownerId` / `site`, which every listed device has.',
    ].join('\n\n'),
    access: read,
    policy: { action: 'devices.read', resource: 'device-list' },
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
    policy: onDevice('devices.read'),
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
    policy: onDevice('devices.update'),
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
    policy: onDevice('devices.credentials'),
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
    policy: onDevice('devices.credentials'),
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
    policy: onDevice('devices.read'),
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
    policy: onDevice('devices.credentials'),
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
    policy: { action: 'devices.bulk', resource: 'tenant' },
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
    policy: { exempt: 'a person claims an unowned device with its one-time code: the registry checks the code, throttles failures and makes the caller the owner (ADR 0018)' },
    status: 200,
    body: { name: 'ClaimRequest', schema: ClaimBody, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'ClaimedDevice', schema: ClaimDevice.reply, description: 'The device, now owned by the caller' },
    problems: [400, 415, 422, 429],
  },
  createDelegation: {
    operationId: 'createDelegation',
    method: 'POST',
    path: DELEGATIONS,
    tag: 'delegations',
    summary: 'Share a device (or your account) with someone',
    description: [
      'You are the delegator. `resource` is `device:<serial>` (a device you own, or one shared with you by a grant that allows re-delegation) or `*` (your account: only the scopes the tenant lets people share). `scopes` must be within what you may do there (for a device you own: its type’s owner scopes).',
      '`delegatee` is `{ "type": "user", "username": … }` (or `"id"`), or `{ "type": "client", "id": … }` for an app. The window is `notBefore` (default: now) to `expiresAt`; `constraints` adds weekdays and a time of day in an IANA time zone, and a maximum number of delegated tokens. Re-delegation is off unless `redelegation.allowed` (with a `maxDepth`).',
      'Sharing what you may not share is a 403; an unknown delegatee, yourself, or a window in the past a 422.',
    ].join('\n\n'),
    access: sharing(SCOPES.delegationsWrite),
    policy: SHARING_EXEMPTION,
    status: 201,
    body: { name: 'NewDelegation', schema: CreateGrantBody, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'GrantReply', schema: CreateGrant.reply, description: 'The new grant', headers: { Location: 'The URL of the new grant' } },
    problems: [400, 415, 422],
  },
  listDelegations: {
    operationId: 'listDelegations',
    method: 'GET',
    path: DELEGATIONS,
    tag: 'delegations',
    summary: 'What you shared, or what was shared with you',
    description: 'Newest first. `role` is required: `delegator` lists the grants you made, `delegatee` those made to you. Every parameter may be given once; unknown parameters are refused.',
    access: sharing(SCOPES.delegationsRead),
    policy: SHARING_EXEMPTION,
    status: 200,
    query: [
      { name: 'role', description: 'Required: `delegator` (what you shared) or `delegatee` (what was shared with you).', schema: { type: 'string', enum: ['delegator', 'delegatee'] } },
      { name: 'status', description: 'Only grants in this status.', schema: { type: 'string', enum: [...GRANT_STATUSES] } },
      { name: 'resource', description: 'Only grants on this resource (`device:<serial>` or `*`).', schema: { type: 'string', maxLength: 210 } },
      ...PAGE,
    ],
    reply: { name: 'GrantPage', schema: ListGrants.reply, description: 'A page of grants', headers: PAGE_HEADERS },
    problems: [400],
  },
  getDelegation: {
    operationId: 'getDelegation',
    method: 'GET',
    path: GRANT,
    tag: 'delegations',
    summary: 'A grant and its audit trail',
    description: 'Visible to its delegator and its delegatee; anyone else gets a 404.',
    params: GRANT_ID,
    access: sharing(SCOPES.delegationsRead),
    policy: SHARING_EXEMPTION,
    status: 200,
    reply: { name: 'GrantWithAudit', schema: GetGrant.reply, description: 'The grant and its audit trail' },
    problems: [],
  },
  revokeDelegation: {
    operationId: 'revokeDelegation',
    method: 'POST',
    path: `${GRANT}/revoke`,
    tag: 'delegations',
    summary: 'Revoke a grant you made (and every grant re-delegated from it)',
    description: 'Every token issued under the grant stops working at once. A grant that is no longer active is a 409.',
    params: GRANT_ID,
    access: sharing(SCOPES.delegationsWrite),
    policy: SHARING_EXEMPTION,
    status: 200,
    body: reasonBody,
    reply: { name: 'RevokedGrant', schema: RevokeGrant.reply, description: 'The revoked grant and the ids of the re-delegated grants revoked with it' },
    problems: [404, 409, 415, 422],
  },
  declineDelegation: {
    operationId: 'declineDelegation',
    method: 'POST',
    path: `${GRANT}/decline`,
    tag: 'delegations',
    summary: 'Decline a grant made to you',
    description: 'The grant ends (and so does everything re-delegated from it); its tokens stop working at once. A grant that is no longer active is a 409.',
    params: GRANT_ID,
    access: sharing(SCOPES.delegationsWrite),
    policy: SHARING_EXEMPTION,
    status: 200,
    body: reasonBody,
    reply: { name: 'GrantReply', schema: DeclineGrant.reply, description: 'The declined grant' },
    problems: [404, 409, 415, 422],
  },
  adminRevokeDelegation: {
    operationId: 'adminRevokeDelegation',
    method: 'POST',
    path: 'admin/v1/delegations/:id/revoke',
    tag: 'delegations',
    summary: 'Revoke any grant of the tenant (administrators)',
    description: 'As `revokeDelegation`, for any grant: an administrator’s or a service’s token with `delegations:admin` (any actor; never a delegated token). The audit trail names the administrator.',
    params: GRANT_ID,
    access: { scopes: [SCOPES.delegationsAdmin] },
    policy: { exempt: 'administrators holding `delegations:admin`: the default policy has no delegation actions yet, the scope is the permission (ADR 0018)' },
    status: 200,
    body: reasonBody,
    reply: { name: 'RevokedGrant', schema: RevokeGrant.reply, description: 'The revoked grant and the ids of the re-delegated grants revoked with it' },
    problems: [404, 409, 415, 422],
  },
  unlockCommand: command('unlock', 'unlockDevice', 'Unlock a lock'),
  lockCommand: command('lock', 'lockDevice', 'Lock a lock'),
  configureCommand: command('configure', 'configureDevice', 'Configure a lock'),
  getOwnDevice: {
    operationId: 'getOwnDevice',
    method: 'GET',
    path: 'v1/devices/me',
    tag: 'self',
    summary: 'The calling device’s own registration',
    description: 'A device’s own token (client credentials, client_id = its device id). A device that is suspended or decommissioned, or whose key was revoked, has no live token: 401.',
    access: { scopes: [], actors: ['device'] },
    policy: { exempt: 'a device reads its own registration with its own token: the token is the device (suspended or decommissioned devices have none)' },
    status: 200,
    reply: { name: 'DeviceWithCredentials', schema: GetDevice.reply, description: 'The device and its credentials (public parts only)' },
    problems: [],
  },
  accessEvaluation: {
    operationId: 'accessEvaluation',
    method: 'POST',
    path: 'access/v1/evaluation',
    tag: 'access',
    summary: 'OpenID AuthZEN Access Evaluation: may this subject do this action on this resource?',
    description: AUTHZEN_DESCRIPTION,
    access: evaluator,
    policy: AUTHZEN_EXEMPTION,
    status: 200,
    body: { name: 'AccessEvaluationRequest', schema: EvaluationRequest, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'AccessEvaluationResponse', schema: EvaluationResponse, description: 'The decision (a denial is a 200 with `decision: false`)', headers: { 'X-Request-ID': 'The request’s own `X-Request-ID`, when it sent one' } },
    problems: [400, 415],
  },
  accessEvaluations: {
    operationId: 'accessEvaluations',
    method: 'POST',
    path: 'access/v1/evaluations',
    tag: 'access',
    summary: 'OpenID AuthZEN Access Evaluations: up to 100 evaluations in one call',
    description: [
      AUTHZEN_DESCRIPTION,
      'Top-level `subject`, `action`, `resource` and `context` are defaults for every entry of `evaluations`; an entry’s own members win. The answers come in the order of the entries; an entry that cannot be evaluated (incomplete, invalid, an unknown device) is `decision: false` with `context.error` `{ status, message }`. `options.evaluations_semantic`: `execute_all` (default), `deny_on_first_deny` (answers up to and including the first denial), `permit_on_first_permit` (up to the first permit). Without `evaluations` the request is a single evaluation and the answer `{ decision }`.',
    ].join('\n\n'),
    access: evaluator,
    policy: AUTHZEN_EXEMPTION,
    status: 200,
    body: { name: 'AccessEvaluationsRequest', schema: EvaluationsRequest, mediaTypes: JSON_ONLY, required: true },
    reply: { name: 'AccessEvaluationsResponse', schema: EvaluationsResponse, description: 'One decision per evaluation, in order', headers: { 'X-Request-ID': 'The request’s own `X-Request-ID`, when it sent one' } },
    problems: [400, 415],
  },
  getPolicyStatus: {
    operationId: 'getPolicyStatus',
    method: 'GET',
    path: POLICY,
    tag: 'policy',
    summary: 'Which policy decides for the tenant',
    description:
      'The bundle (`source`: `default` or `tenant`; `origin`: `built-in`, `tenants-file` or `admin-api`; its version, SHA-256 digest and who activated it when), the data overlay’s version, `policyVersion` (what every decision reports) and the last activation that was refused, with why.',
    access: administrator(SCOPES.policyRead),
    policy: POLICY_ADMIN_EXEMPTION,
    status: 200,
    reply: { name: 'PolicyStatus', schema: GetPolicyStatus.reply, description: 'The tenant’s active policy' },
    problems: [],
  },
  activatePolicyBundle: {
    operationId: 'activatePolicyBundle',
    method: 'PUT',
    path: `${POLICY}/bundle`,
    tag: 'policy',
    summary: 'Replace the tenant’s policy with a compiled bundle',
    description: [
      'The body is the bundle as `opa build -t wasm -e latchkey/authz/decision` writes it (a tar.gz; policies/README.md, “A tenant’s own policy”): its raw bytes as `application/gzip` or `application/octet-stream`, or JSON `{ "bundle": "<base64>", "data"?: {…}, "reason"?: "…" }` where `data` replaces the whole data overlay. At most 720,000 bytes of bundle.',
      POLICY_VALIDATION,
    ].join('\n\n'),
    access: administrator(SCOPES.policyWrite),
    policy: POLICY_ADMIN_EXEMPTION,
    status: 200,
    bodyLimit: POLICY_BUNDLE_BODY_LIMIT_BYTES,
    body: { name: 'PolicyBundleUpload', schema: PolicyBundleJsonBody, mediaTypes: [...RAW_BODY_MEDIA_TYPES, 'application/json'], required: true, description: 'The compiled bundle: raw bytes, or base64 in JSON' },
    reply: POLICY_STATUS_REPLY,
    problems: [400, 409, 413, 415, 422],
  },
  resetPolicy: {
    operationId: 'resetPolicy',
    method: 'POST',
    path: `${POLICY}/reset`,
    tag: 'policy',
    summary: 'Go back to the default policy bundle',
    description: [
      'The bundle becomes the tenant’s base again (the tenants file’s `policy.bundleFile`, else the built-in default). The data changed through this API is kept unless `clearData` is true. Send no body to give no reason.',
      POLICY_VALIDATION,
    ].join('\n\n'),
    access: administrator(SCOPES.policyWrite),
    policy: POLICY_ADMIN_EXEMPTION,
    status: 200,
    body: { name: 'PolicyResetRequest', schema: PolicyResetBody, mediaTypes: JSON_ONLY, required: false },
    reply: POLICY_STATUS_REPLY,
    problems: [409, 415, 422],
  },
  updatePolicyData: {
    operationId: 'updatePolicyData',
    method: 'PATCH',
    path: `${POLICY}/data`,
    tag: 'policy',
    summary: 'Change the tenant’s policy data (JSON merge patch)',
    description: [
      'A JSON merge patch (RFC 7396: `null` removes a key) of the tenant’s data overlay, which is merged over the bundle’s `data.json` and the tenants file’s `policy.data`: e.g. `{ "bindings": { "client": { "ops-app": { "roles": ["viewer"] } } } }` gives an app a role. The data the policy reads is described in policies/README.md; the top-level key `latchkey` is reserved, and at most 256 KiB of JSON.',
      POLICY_VALIDATION,
    ].join('\n\n'),
    access: administrator(SCOPES.policyWrite),
    policy: POLICY_ADMIN_EXEMPTION,
    status: 200,
    body: { name: 'PolicyDataPatch', schema: PolicyDataPatch, mediaTypes: ['application/merge-patch+json', 'application/json'], required: true },
    reply: POLICY_STATUS_REPLY,
    problems: [400, 409, 415, 422],
  },
  listSigningKeys: {
    operationId: 'listSigningKeys',
    method: 'GET',
    path: SIGNING_KEYS,
    tag: 'keys',
    summary: 'The tenant’s signing keys and their life cycle',
    description:
      'Newest first, every algorithm track (the access-token algorithm, and RS256 when a client registered RS256 ID tokens), at most the 100 latest. `next`: published in the JWKS, signs from `activatesAt`; `active`: signs; `retired`: still published until `publishUntil` (when every token it signed has expired), then not (`published: false`). Public metadata only: the public keys themselves are in the JWKS (`/jwks`), private keys never leave the token service.',
    access: administrator(SCOPES.keysRead),
    policy: { action: KEY_ACTIONS.read, resource: 'tenant' },
    status: 200,
    reply: { name: 'SigningKeys', schema: ListSigningKeys.reply, description: 'The tenant’s signing keys' },
    problems: [],
  },
  rotateSigningKey: {
    operationId: 'rotateSigningKey',
    method: 'POST',
    path: `${SIGNING_KEYS}/rotate`,
    tag: 'keys',
    summary: 'Rotate the tenant’s signing keys (e.g. on suspected compromise)',
    description: [
      'A new key is published in the JWKS at once and signs from `activatesAt` (after the propagation delay, 120 s by default, so that every verifier caching the JWKS sees it first); at that instant the current key is retired and stays published until every token it signed has expired. Every algorithm track rotates; the reply names the access-token track’s new key.',
      'While a rotation is pending, asking again answers with the pending key (nothing new is created). Send no body to give no reason; a `reason` is recorded with the new key.',
    ].join('\n\n'),
    access: administrator(SCOPES.keysWrite),
    policy: { action: KEY_ACTIONS.rotate, resource: 'tenant' },
    status: 200,
    body: { name: 'SigningKeyRotationRequest', schema: RotateSigningKeyBody, mediaTypes: JSON_ONLY, required: false },
    reply: { name: 'SigningKeyRotation', schema: RotateSigningKey.reply, description: 'The key that will sign (`kid`, as in the JWKS) and from when' },
    problems: [400, 415, 422],
  },
  openApi: {
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: 'admin/v1/openapi.json',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    access: null,
    policy: null,
    status: 200,
    reply: { description: 'The OpenAPI document of this tenant’s device and delegation APIs' },
    problems: [],
  },
} as const satisfies Record<string, ApiOperation>;

export type OperationName = keyof typeof OPERATIONS;
