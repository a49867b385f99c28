import type { TenantDirectory } from '@latchkey/config';
import { type CheckGrant, ContractError, type ParsedRequestOf, type ReplyOf, type UsableGrant, type UseGrant } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import { loadChains } from './chains.js';
import { evaluateChain, type Verdict } from './constraints.js';
import { type ChainedGrant, grantView } from './grant-record.js';
import { grantedScopes } from './grant-rules.js';
import type { GrantStore } from './grant-store.js';

type Party = { type: 'user' | 'client'; id: string };

interface Candidate extends ChainedGrant {
  verdict: Verdict;
  scopes: string[];
}

/**
 * Using grants: issuing a delegated token (token exchange, userinfo's `delegations`) counts a use on
 * the grant and on its chain, at issuance, atomically; checking a grant later (a token in use) counts
 * nothing. Uses leave no audit record: the counter says how many, the token service's issuance and the
 * resource's own records (`RecordDeviceCommand` carries the grant id) say when and what — an insert per
 * token on the token-exchange hot path would double its writes for a trail nobody reads by grant.
 */
export class GrantUsage {
  constructor(
    private readonly store: GrantStore,
    private readonly tenants: TenantDirectory,
    private readonly clock: Clock,
  ) {}

  /**
   * The delegatee's usable grant (narrowed by resource, delegator, grant id), with one use counted.
   * `not_found`: no active grant matches; `forbidden`: grants match but none may be used now (the reason
   * of the oldest says why); `invalid_scope`: usable grants match but none has any requested scope.
   * Several usable grants: the one granting most of the requested scopes, the oldest among equals.
   */
  async use(request: ParsedRequestOf<typeof UseGrant>): Promise<UsableGrant> {
    const { tenant, delegatee, scopes } = request;
    this.tenants.get(tenant);
    const now = new Date(this.clock());
    const active = await this.store.activeGrantsOf(tenant, delegatee, {
      ...(request.resource ? { resource: request.resource } : {}),
      ...(request.delegatorId ? { delegatorId: request.delegatorId } : {}),
      ...(request.grantId ? { grantId: request.grantId } : {}),
    });
    if (!active.length) throw new ContractError('not_found', 'no grant to use');
    const candidates = (await loadChains(this.store, tenant, active)).map((chained) => this.assess(chained, scopes, now));
    const usable = candidates.filter((candidate) => candidate.verdict.usable);
    if (!usable.length) {
      const { verdict, grant } = candidates[0]!;
      throw new ContractError('forbidden', verdict.usable ? 'the grant cannot be used now' : verdict.reason, {
        grantId: grant.id,
        ...(verdict.usable ? {} : { refusal: verdict.refusal }),
      });
    }
    const fitting = usable.filter((candidate) => candidate.scopes.length > 0);
    if (!fitting.length) throw new ContractError('invalid_scope', `none of the requested scopes is granted: ${scopes.join(' ')}`);
    const chosen = fitting.reduce((best, candidate) => (candidate.scopes.length > best.scopes.length ? candidate : best));
    const counted = await this.store.countUse(
      tenant,
      chosen.chain.map((link) => link.id),
    );
    if (!counted) {
      throw new ContractError('forbidden', 'the grant was used up or ended a moment ago', { grantId: chosen.grant.id, refusal: 'used_up' });
    }
    return this.usable(chosen, counted.get(chosen.grant.id) ?? chosen.grant.uses + 1);
  }

  /** Every grant the delegatee may use now (oldest first), one use counted on each; those that refuse are left out. */
  async useAll(tenant: string, delegatee: Party): Promise<UsableGrant[]> {
    this.tenants.get(tenant);
    const now = new Date(this.clock());
    const active = await this.store.activeGrantsOf(tenant, delegatee);
    if (!active.length) return [];
    const usable = (await loadChains(this.store, tenant, active)).map((chained) => this.assess(chained, [], now)).filter((candidate) => candidate.verdict.usable);
    // Roots take their use in one statement; a re-delegation with its chain, atomically.
    const counts = await this.store.countSingleUses(
      tenant,
      usable.filter((candidate) => candidate.chain.length === 1).map((candidate) => candidate.grant.id),
    );
    for (const candidate of usable.filter((c) => c.chain.length > 1)) {
      const counted = await this.store.countUse(
        tenant,
        candidate.chain.map((link) => link.id),
      );
      if (counted) counts.set(candidate.grant.id, counted.get(candidate.grant.id) ?? candidate.grant.uses + 1);
    }
    return usable.filter((candidate) => counts.has(candidate.grant.id)).map((candidate) => this.usable(candidate, counts.get(candidate.grant.id)!));
  }

  /** Is the grant (and its chain) usable right now? Uses are not part of it: they were counted at issuance. */
  async check(request: ParsedRequestOf<typeof CheckGrant>): Promise<ReplyOf<typeof CheckGrant>> {
    this.tenants.get(request.tenant);
    const grant = await this.store.find(request.tenant, request.grantId);
    if (!grant) return { usable: false, reason: 'no such grant' };
    const [chained] = await loadChains(this.store, request.tenant, [grant]);
    const verdict = evaluateChain(chained!.chain, new Date(this.clock()), { countUses: false });
    return verdict.usable ? { usable: true, grant: grantView(grant) } : { usable: false, reason: verdict.reason };
  }

  private assess(chained: ChainedGrant, requested: readonly string[], now: Date): Candidate {
    return { ...chained, verdict: evaluateChain(chained.chain, now, { countUses: true }), scopes: grantedScopes(requested, chained.grant.scopes) };
  }

  private usable(candidate: Candidate, uses: number): UsableGrant {
    return {
      grant: grantView({ ...candidate.grant, uses }),
      scopes: candidate.scopes,
      // The delegatees from the root grant down to this one: the nested `act` of the token (RFC 8693 §4.1).
      actors: candidate.chain.map((link) => ({ type: link.delegateeType, id: link.delegateeId })),
    };
  }
}
