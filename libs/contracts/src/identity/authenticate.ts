import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthenticationContextClass, AuthenticationMethod, ClientIp } from './authentication.js';
import { UserSummary } from './find-user.js';

/**
 * Checks a username and password (the login page). Every failure is `invalid_grant` "authentication
 * failed" (see AUTHENTICATION_FAILED). `otpRequired` tells the login page to ask for a code next
 * (`verify-otp`) before it creates a session.
 */
export const Authenticate = defineRequest({
  subject: 'latchkey.identity.v1.authenticate',
  request: z.object({
    tenant: TenantId,
    username: z.string().min(1).max(200),
    password: z.string().min(1).max(1024),
    clientIp: ClientIp,
  }),
  reply: z.object({
    user: UserSummary,
    amr: z.array(AuthenticationMethod).min(1),
    acr: AuthenticationContextClass,
    /** Seconds since the epoch (OIDC `auth_time`). */
    authTime: z.number().int().nonnegative(),
    otpRequired: z.boolean(),
  }),
});
