import { type Actor, type CreateGrant, ListGrants, type ParsedRequestOf, type RequestOf } from '@latchkey/contracts';
import { queryRequest } from '../admin/list-query.js';
import type { CreateGrantBody } from './schemas.js';

// The delegations API's HTTP input → the delegation contracts' requests. The delegator, the party of a
// list and the actor of every change are the caller (the token's person), never something the body says.

const LIST_PARAMETERS: Readonly<Record<string, string>> = { role: 'role', status: 'status', resource: 'resource', limit: 'limit', cursor: 'cursor' };

/** `GET /v1/delegations?role=&status=&resource=&limit=&cursor=` → `ListGrants` of the caller. */
export function listGrantsRequest(tenant: string, caller: Actor, entries: ReadonlyArray<readonly [string, string]>): ParsedRequestOf<typeof ListGrants> {
  return queryRequest(ListGrants.request, { tenant, party: { type: 'user', id: caller.id } }, entries, LIST_PARAMETERS);
}

/** `POST /v1/delegations` → `CreateGrant` with the caller as the delegator. */
export function createGrantRequest(tenant: string, caller: Actor, body: CreateGrantBody): RequestOf<typeof CreateGrant> {
  return { tenant, actor: caller, ...body };
}

/** The optional `{ reason }` of a revocation or a decline, only when given. */
export function withReason(reason: string | undefined): { reason?: string } {
  return reason !== undefined ? { reason } : {};
}
