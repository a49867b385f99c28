import { z } from 'zod';
import { ClientId, ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { ClientAuthentication } from './client-authentication.js';

/** RFC 8628 §3.4: the `grant_type` a device polls the token endpoint with (parameter `device_code`). */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.4 parameters of the device-code grant. */
export const DeviceCodeParameters = z.object({ device_code: z.string().min(1).max(512) });

/** RFC 8628 §3.2 device authorization response. */
export const DeviceAuthorizationResponse = z.object({
  device_code: z.string(),
  /** 8 characters of BCDFGHJKLMNPQRSTVWXZ shown as `XXXX-XXXX`. */
  user_code: z.string(),
  /** `${issuer}/device`. */
  verification_uri: z.string(),
  /** `${issuer}/device?user_code=XXXX-XXXX`. */
  verification_uri_complete: z.string(),
  expires_in: z.number().int().positive(),
  interval: z.number().int().positive(),
});
export type DeviceAuthorizationResponse = z.infer<typeof DeviceAuthorizationResponse>;

/**
 * `POST /t/{tenant}/oauth2/device_authorization` (RFC 8628 §3.1): the client authenticates like at the
 * token endpoint (public clients with `none`) and must be registered for the device-code grant
 * (`unauthorized_client` otherwise); `invalid_scope` for a scope it may not have.
 */
export const DeviceAuthorization = defineRequest({
  subject: 'latchkey.token.v1.device-authorization',
  request: z.object({
    tenant: TenantId,
    client: ClientAuthentication,
    parameters: z.object({ scope: z.string().max(4096).optional() }),
  }),
  reply: DeviceAuthorizationResponse,
});

/** A user code as typed by a person: case and dashes/spaces do not matter; validated by the token service. */
const TypedUserCode = z.string().min(1).max(64);

/**
 * The device-verification page (`/t/{tenant}/device`) looks up what a user code asks for, to show it
 * before the user approves. Fails with `not_found` — the same for an unknown, expired or already
 * decided code and for a client IP locked out after too many failed lookups (RFC 8628 §5.1), so a
 * guesser learns nothing. Every failed lookup counts against `clientIp`.
 */
export const LookupUserCode = defineRequest({
  subject: 'latchkey.token.v1.lookup-user-code',
  request: z.object({
    tenant: TenantId,
    userCode: TypedUserCode,
    /** The end-user's IP address as the gateway sees it. */
    clientIp: z.string().min(1).max(100),
  }),
  reply: z.object({
    clientId: ClientId,
    /** The client's display name, or its id when it has none. */
    clientName: z.string(),
    scopes: z.array(ScopeToken),
  }),
});

/** The end-user deciding on a device; `sessionId` (their identity session) becomes the ID token's `sid`. */
export const DeviceDecisionSubject = z.object({
  userId: z.string().min(1).max(200),
  /** Epoch seconds, OIDC Core `auth_time`. */
  authTime: z.number().int().nonnegative(),
  amr: z.array(z.string().min(1).max(50)).max(20),
  acr: z.string().min(1).max(200),
  sessionId: z.string().min(1).max(200).optional(),
});

/**
 * The signed-in user approves or denies a pending device authorization (RFC 8628 §3.3). The device's
 * next poll gets tokens or `access_denied`. Fails with `not_found` for an unknown, expired or already
 * decided code; `invalid_request` for an approval without a subject. The gateway looks the code up
 * with `lookup-user-code` (which throttles guessing) before offering the decision.
 */
export const DecideDeviceCode = defineRequest({
  subject: 'latchkey.token.v1.decide-device-code',
  request: z.object({
    tenant: TenantId,
    userCode: TypedUserCode,
    decision: z.enum(['approve', 'deny']),
    /** Required for `approve`. */
    subject: DeviceDecisionSubject.optional(),
  }),
  reply: z.object({ approved: z.boolean() }),
});
