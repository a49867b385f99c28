import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { ClientIp, OtpCode } from './authentication.js';

/** The first code from the authenticator app confirms a pending enrolment. Failure: `invalid_grant`. */
export const ConfirmOtp = defineRequest({
  subject: 'latchkey.identity.v1.confirm-otp',
  request: z.object({ tenant: TenantId, userId: z.uuid(), code: OtpCode, clientIp: ClientIp }),
  reply: z.object({ confirmed: z.literal(true) }),
});
