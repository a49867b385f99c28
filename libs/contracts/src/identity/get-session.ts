import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { AuthenticationContextClass, AuthenticationMethod, SessionId } from './authentication.js';
import { UserSummary } from './find-user.js';

export const SessionSummary = z.object({
  user: UserSummary,
  amr: z.array(AuthenticationMethod),
  acr: AuthenticationContextClass,
  /** Seconds since the epoch (OIDC `auth_time`). */
  authTime: z.number().int().nonnegative(),
  /** Absolute expiry. */
  expiresAt: z.iso.datetime(),
  /** When the session ends unless it is used again before. */
  idleExpiresAt: z.iso.datetime(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

/**
 * The live session a browser presents, or null (unknown, ended, idle or absolutely expired, another
 * tenant's, or its user disabled). A hit counts as activity and extends the idle expiry.
 */
export const GetSession = defineRequest({
  subject: 'latchkey.identity.v1.get-session',
  request: z.object({ tenant: TenantId, sessionId: SessionId }),
  reply: z.object({ session: SessionSummary.nullable() }),
});
