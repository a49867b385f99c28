import { z } from 'zod';
import { TenantId } from '../common.js';
import { ClientJwk, PRIVATE_JWK_MEMBERS } from '../token/client-jwks.js';

/** `provisioned → active → suspended → active`, any → `decommissioned` (final). */
export const DEVICE_STATUSES = ['provisioned', 'active', 'suspended', 'decommissioned'] as const;
export const DeviceStatus = z.enum(DEVICE_STATUSES);
export type DeviceStatus = z.infer<typeof DeviceStatus>;

/** The lifecycle actions of the admin API; which are legal depends on the current status. */
export const DEVICE_ACTIONS = ['activate', 'suspend', 'reactivate', 'decommission'] as const;
export const DeviceAction = z.enum(DEVICE_ACTIONS);
export type DeviceAction = z.infer<typeof DeviceAction>;

export const DeviceId = z.uuid();

/** Printable, no control characters: a serial ends up in CSV reports, logs and QR payloads. */
export const DeviceSerial = z.string().min(1).max(200).regex(/^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$/, 'a serial is printable ASCII without leading or trailing space');

/** A device type is a slug (`bike-lock`); the tenants file may give it scopes and allow shared secrets. */
export const DeviceType = z.string().min(1).max(100).regex(/^[a-z0-9][a-z0-9._-]*$/, 'a device type is a lowercase slug (a-z, 0-9, ., _, -)');

/** Free attributes: a flat JSON object, small enough to index and filter on. */
export const DeviceAttributes = z
  .record(z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'attribute names use A-Z a-z 0-9 _ . : -'), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((attributes) => Object.keys(attributes).length <= 50, 'at most 50 attributes');
export type DeviceAttributes = z.infer<typeof DeviceAttributes>;

/** Who made a change: a person (user id), an app or service (client id), a device, or the platform itself. */
export const Actor = z.object({
  type: z.enum(['user', 'client', 'device', 'system']),
  id: z.string().min(1).max(200),
});
export type Actor = z.infer<typeof Actor>;

const Timestamp = z.iso.datetime({ offset: true });

export const DeviceView = z.object({
  id: DeviceId,
  tenant: TenantId,
  serial: z.string(),
  type: z.string(),
  model: z.string().nullable(),
  firmwareVersion: z.string().nullable(),
  location: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  ownerId: z.string().nullable(),
  status: DeviceStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastSeenAt: Timestamp.nullable(),
});
export type DeviceView = z.infer<typeof DeviceView>;

/**
 * A device's public key as submitted: one of the client-key shapes (EC P-256, Ed25519, RSA ≥ 2048).
 * Private members are refused outright (stripping them silently would hide a leaked private key).
 */
export const DevicePublicJwk = z
  .record(z.string(), z.unknown())
  .superRefine((key, ctx) => {
    for (const member of PRIVATE_JWK_MEMBERS) {
      if (member in key) ctx.addIssue({ code: 'custom', path: [member], message: 'a device key must be public: private key members are not accepted' });
    }
  })
  .pipe(ClientJwk);

const ExpiresAt = Timestamp.optional();

/** A credential to add: a public JWK, an X.509 certificate's SHA-256 thumbprint, or a generated shared secret. */
export const CredentialInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('jwk'), jwk: DevicePublicJwk, expiresAt: ExpiresAt }),
  z.object({
    kind: z.literal('x509'),
    /** `x5t#S256` (RFC 7515 §4.1.8): base64url of the certificate's SHA-256 digest, or hex with optional colons. */
    thumbprint: z.string().min(43).max(95),
    expiresAt: ExpiresAt,
  }),
  /** The registry generates the secret and returns it once; only its hash is stored. */
  z.object({ kind: z.literal('secret'), expiresAt: ExpiresAt }),
]);
export type CredentialInput = z.input<typeof CredentialInput>;

export const CredentialView = z.object({
  id: z.uuid(),
  deviceId: DeviceId,
  kind: z.enum(['jwk', 'x509', 'secret']),
  status: z.enum(['active', 'revoked']),
  /** The JWK's `kid` (given, or its RFC 7638 thumbprint). */
  kid: z.string().nullable(),
  /** The public JWK (kind `jwk`). */
  jwk: z.record(z.string(), z.unknown()).nullable(),
  /** RFC 7638 JWK thumbprint (kind `jwk`) or the certificate's `x5t#S256` (kind `x509`), base64url. */
  thumbprint: z.string().nullable(),
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
});
export type CredentialView = z.infer<typeof CredentialView>;

/** A claim code, shown exactly once: only its hash is stored. */
export const ClaimCodeView = z.object({
  /** `XXXX-XXXX-XXXX-XXXX` of Crockford base32 (80 bits). */
  code: z.string(),
  expiresAt: Timestamp,
  /** What to print as a QR code: the claim page with the code filled in. */
  qrPayload: z.string(),
});
export type ClaimCodeView = z.infer<typeof ClaimCodeView>;

/** One audit record: who changed what, when, from → to, and why. */
export const AuditRecordView = z.object({
  id: z.string(),
  deviceId: DeviceId,
  event: z.string(),
  actor: Actor,
  at: Timestamp,
  fromStatus: DeviceStatus.nullable(),
  toStatus: DeviceStatus.nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditRecordView = z.infer<typeof AuditRecordView>;

/** A new device as an admin (or a bulk row) describes it. */
export const NewDevice = z.object({
  serial: DeviceSerial,
  type: DeviceType,
  model: z.string().max(200).optional(),
  firmwareVersion: z.string().max(100).optional(),
  location: z.string().max(200).optional(),
  attributes: DeviceAttributes.default({}),
  ownerId: z.string().min(1).max(200).optional(),
  /** Start `active` instead of `provisioned`. */
  activate: z.boolean().default(false),
  credentials: z.array(CredentialInput).max(10).default([]),
  /** Issue a one-time claim code (only for a device without an owner). */
  claimCode: z.boolean().default(false),
  reason: z.string().max(500).optional(),
});
export type NewDevice = z.input<typeof NewDevice>;

export const Cursor = z.string().min(1).max(200);
export const PageLimit = z.number().int().min(1).max(500).default(50);
