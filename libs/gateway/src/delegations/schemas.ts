import { CreateGrant } from '@latchkey/contracts';
import { z } from 'zod';

const { tenant: _tenant, actor: _actor, ...grantFields } = CreateGrant.request.shape;

/**
 * `POST /v1/delegations`: what `CreateGrant` takes, less what the gateway fills in (the tenant from the
 * path, the delegator from the token). Strict: a `delegator` or `actor` field is an error, not ignored
 * (nobody shares in another person's name).
 */
export const CreateGrantBody = z.strictObject(grantFields);
export type CreateGrantBody = z.output<typeof CreateGrantBody>;
