import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/**
 * Starts TOTP enrolment for a signed-in user: a new secret, returned this once (base32 and as an
 * `otpauth://` URI for a QR code). It is pending until `confirm-otp`. `conflict` when the user already
 * has a confirmed credential; `not_found` for an unknown user; `unavailable` when this deployment has
 * no key-encryption key.
 */
export const EnrolOtp = defineRequest({
  subject: 'latchkey.identity.v1.enrol-otp',
  request: z.object({ tenant: TenantId, userId: z.uuid() }),
  reply: z.object({
    secret: z.string().regex(/^[A-Z2-7]+$/),
    otpauthUri: z.string().startsWith('otpauth://totp/'),
  }),
});
