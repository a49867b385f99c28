import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';
import { SessionId } from './authentication.js';

/** Logout: ends the session. Ending an unknown session succeeds with `ended: false`. */
export const EndSession = defineRequest({
  subject: 'latchkey.identity.v1.end-session',
  request: z.object({ tenant: TenantId, sessionId: SessionId }),
  reply: z.object({ ended: z.boolean() }),
});
