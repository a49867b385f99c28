import type { ChainedGrant, GrantRecord } from './grant-record.js';
import type { GrantStore, Queryable } from './grant-store.js';

/**
 * Each grant with the grants it was re-delegated from (root first): one query for all of them, none when
 * every grant is a root. A missing ancestor (it cannot be deleted, but a chain is never trusted blindly)
 * makes a chain that fails evaluation: it is replaced by an inactive placeholder.
 */
export async function loadChains(store: GrantStore, tenant: string, grants: readonly GrantRecord[], q?: Queryable): Promise<ChainedGrant[]> {
  const wanted = [...new Set(grants.flatMap((grant) => grant.ancestors))];
  const ancestors = new Map((await store.findMany(tenant, wanted, q)).map((grant) => [grant.id, grant]));
  return grants.map((grant) => ({
    grant,
    chain: [...grant.ancestors.map((id) => ancestors.get(id) ?? missingAncestor(grant, id)), grant],
  }));
}

function missingAncestor(grant: GrantRecord, id: string): GrantRecord {
  return { ...grant, id, status: 'revoked', ancestors: [] };
}
