import type { TenantDirectory } from '@latchkey/config';
import { type DelegatedTokenEntry, type IssueDelegatedTokens, type ParsedRequestOf, type ReplyOf, UseAllGrants } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import type { ClientRepository } from '../clients/client.repository.js';
import type { ScopeDecisions } from '../policy/scope-decisions.js';
import type { Clock } from '../tokens/access-tokens.js';
import { type DelegatedTokens, delegatedScopeQuestion, delegatedScopes, delegationKeys } from './delegated-tokens.js';

/**
 * The userinfo `delegations` claim (ARCHITECTURE flow 4, docs/adr/0021): for every grant the person may
 * use now, one delegated access token issued to the client that called userinfo, keyed by the
 * delegator's username (`<username>#2`, … for further grants of the same delegator, oldest first).
 * Each token carries the grant's scopes the client is registered for that the tenant's policy allows
 * (`token.scope`, docs/adr/0023; every grant's scopes in one round trip); a grant left with no scope, or
 * that ends within a second, is left out. A decision point that cannot answer fails the claim
 * (`unavailable`), as the delegation service's outage does.
 */
export class DelegationsClaim {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clients: ClientRepository,
    private readonly delegation: ContractClient,
    private readonly delegatedTokens: DelegatedTokens,
    private readonly scopeDecisions: ScopeDecisions,
    /** The time pinned in the scope decisions (TokenServiceOptions.delegationPolicyClock). */
    private readonly policyClock: Clock = Date.now,
  ) {}

  async issue(request: ParsedRequestOf<typeof IssueDelegatedTokens>): Promise<ReplyOf<typeof IssueDelegatedTokens>> {
    const tenant = this.tenants.get(request.tenant);
    // A registered client only: a device holding a person's token (RFC 8628) has no delegated tokens,
    // and no grant's use is counted for a client that could carry none.
    const client = await this.clients.find(tenant.id, request.clientId);
    if (!client || client.scopes.length === 0) return { delegations: {} };
    const { grants } = await this.delegation.send(UseAllGrants, { tenant: tenant.id, delegatee: { type: 'user', id: request.userId } });
    const delegatee = { type: 'user', id: request.userId } as const;
    const candidates = grants
      .map((usable) => ({ usable, scopes: delegatedScopes(usable.scopes, client.scopes) }))
      .filter(({ scopes }) => scopes.length > 0);
    const now = this.policyClock();
    const allowed = candidates.length > 0 ? await this.scopeDecisions.decide(tenant.id, candidates.map(({ usable, scopes }) => delegatedScopeQuestion(usable, delegatee, scopes, now))) : [];
    const issued: { grant: { id: string; delegatorName: string; createdAt: string }; entry: DelegatedTokenEntry }[] = [];
    for (const [i, { usable }] of candidates.entries()) {
      const signed = await this.delegatedTokens.sign(tenant, client.clientId, allowed[i]!, usable, delegatee);
      if ('refused' in signed) continue;
      issued.push({
        grant: { id: usable.grant.id, delegatorName: usable.grant.delegator.name, createdAt: usable.grant.createdAt },
        entry: { access_token: signed.token, token_type: 'Bearer', expires_in: signed.lifetimeSeconds, scope: signed.scopes, resource: signed.audience, grant_id: usable.grant.id },
      });
    }
    const entries = new Map(issued.map(({ grant, entry }) => [grant.id, entry]));
    // Oldest grant first, so `adam` comes before `adam#2` in the claim too.
    return { delegations: Object.fromEntries([...delegationKeys(issued.map(({ grant }) => grant))].map(([grantId, key]) => [key, entries.get(grantId)!])) };
  }
}
