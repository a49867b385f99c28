import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthenticationContextClass, AuthenticationMethod, ClientIp, OtpCode } from './authentication.js';

/**
 * The second factor after `authenticate`: a TOTP code of the user's confirmed credential. A code is
 * accepted once. Every failure is `invalid_grant` "authentication failed".
 */
export const VerifyOtp = defineRequest({
  subject: 'latchkey.identity.v1.verify-otp',
  request: z.object({ tenant: TenantId, userId: z.uuid(), code: OtpCode, clientIp: ClientIp }),
  reply: z.object({
    amr: z.array(AuthenticationMethod).min(1),
    acr: AuthenticationContextClass,
    authTime: z.number().int().nonnegative(),
  }),
});
