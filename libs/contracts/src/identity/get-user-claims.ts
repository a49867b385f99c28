import { z } from 'zod';
import { ScopeToken, TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

/** OpenID Connect Core §5.1 standard claims Latchkey releases, by scope (§5.4). */
export const StandardClaims = z.object({
  sub: z.string(),
  /** `profile` */
  preferred_username: z.string().optional(),
  name: z.string().optional(),
  /** `email` */
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
});
export type StandardClaims = z.infer<typeof StandardClaims>;

/**
 * The claims of an active user of the tenant for the scopes of an access token (userinfo, OIDC Core
 * §5.3): `sub` always, `profile` → preferred_username and name, `email` → email and email_verified.
 * A claim the user has no value for is left out. `not_found` for an unknown or disabled user.
 */
export const GetUserClaims = defineRequest({
  subject: 'latchkey.identity.v1.get-user-claims',
  request: z.object({ tenant: TenantId, userId: z.string().min(1).max(200), scopes: z.array(ScopeToken).max(100) }),
  reply: z.object({ claims: StandardClaims }),
});
