import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

export const UserSummary = z.object({
  id: z.uuid(),
  tenant: TenantId,
  username: z.string(),
  status: z.enum(['active', 'disabled']),
  roles: z.array(z.string()),
});
export type UserSummary = z.infer<typeof UserSummary>;

/** Look a user up by username within a tenant; `user` is null when there is none. */
export const FindUser = defineRequest({
  subject: 'latchkey.identity.v1.find-user',
  request: z.object({ tenant: TenantId, username: z.string().min(1).max(200) }),
  reply: z.object({ user: UserSummary.nullable() }),
});

/** A user's authorization attributes, for the policy input (roles, free attributes such as `sites`). */
export const UserAuthorization = UserSummary.extend({ attributes: z.record(z.string(), z.unknown()) });
export type UserAuthorization = z.infer<typeof UserAuthorization>;

/** A user by id within a tenant, with roles and attributes; `user` is null when there is none. */
export const GetUser = defineRequest({
  subject: 'latchkey.identity.v1.get-user',
  request: z.object({ tenant: TenantId, userId: z.string().min(1).max(200) }),
  reply: z.object({ user: UserAuthorization.nullable() }),
});
