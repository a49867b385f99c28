import type { TenantDirectory } from '@latchkey/config';
import { ContractError, type DelegationConstraints, type DeviceView, FindDeviceBySerial } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { evaluateChain } from './constraints.js';
import { type ChainedGrant, isRedelegable } from './grant-record.js';
import { assertScopesWithin, type ChildRequest, childLimits, scopesBeyond, scopesRefusal } from './grant-rules.js';
import type { GrantStore } from './grant-store.js';
import { loadChains } from './chains.js';

/** On what the actor may share what they asked to share. */
export type SharingBasis =
  /** Their own device (its type's ownerScopes) or their own account (`*`, the tenant's accountScopes). */
  | { kind: 'owner'; depth: 0; constraints: DelegationConstraints | null }
  /** A re-delegable grant they hold on the resource: the new grant is one level below it. */
  | { kind: 'redelegation'; parent: ChainedGrant; depth: number; constraints: DelegationConstraints | null };

/**
 * "Checked, not trusted": what a person may share is worked out here, never taken from the request.
 * A device is asked of the device registry (its owner now); an account is the person's own; anything
 * else needs a grant the person holds that may be re-delegated, and then stays within it.
 */
export class ResourceAuthority {
  constructor(
    private readonly registry: ContractClient,
    private readonly tenants: TenantDirectory,
    private readonly store: GrantStore,
  ) {}

  async basisFor(tenant: string, actorId: string, resource: string, scopes: readonly string[], child: ChildRequest, now: Date): Promise<SharingBasis> {
    const config = this.tenants.get(tenant);
    if (resource === '*') {
      const own = config.delegation.accountScopes;
      // Their own account first: a person who asks for what they may share of it shares their own.
      if (!scopesBeyond(scopes, own).length) return { kind: 'owner', depth: 0, constraints: child.constraints };
      // Beyond it: a re-delegation of someone else's account, if the actor holds such a grant.
      const redelegation = await this.viaHeldGrant(tenant, actorId, resource, scopes, child, now);
      if (redelegation) return redelegation;
      throw scopesRefusal(scopesBeyond(scopes, own), resource);
    }
    const device = await this.device(tenant, resource.slice('device:'.length));
    // Unknown, decommissioned and someone else's devices get the same answer: nothing about other
    // people's devices is revealed.
    if (!device || device.status === 'decommissioned') throw notYours(resource);
    if (device.ownerId === actorId) {
      const type = config.deviceTypes.find((candidate) => candidate.type === device.type);
      assertScopesWithin(scopes, type?.ownerScopes ?? [], resource);
      return { kind: 'owner', depth: 0, constraints: child.constraints };
    }
    const redelegation = await this.viaHeldGrant(tenant, actorId, resource, scopes, child, now);
    if (!redelegation) throw notYours(resource);
    return redelegation;
  }

  /** Null when the actor holds no active grant on the resource at all. */
  private async viaHeldGrant(tenant: string, actorId: string, resource: string, scopes: readonly string[], child: ChildRequest, now: Date): Promise<SharingBasis | null> {
    const held = await this.store.activeGrantsOf(tenant, { type: 'user', id: actorId }, { resource });
    if (!held.length) return null;
    const chains = await loadChains(this.store, tenant, held);
    const usable = chains.filter((candidate) => evaluateChain(candidate.chain, now, { countUses: true }).usable);
    if (!usable.length) {
      const verdict = evaluateChain(chains[0]!.chain, now, { countUses: true });
      throw new ContractError('forbidden', `the grant you hold on ${resource} cannot be used now: ${verdict.usable ? 'unusable' : verdict.reason}`);
    }
    const redelegable = usable.filter((candidate) => isRedelegable(candidate.grant));
    if (!redelegable.length) throw new ContractError('forbidden', `the grant you hold on ${resource} does not allow re-delegation`);
    const covering = redelegable.filter((candidate) => !scopesBeyond(scopes, candidate.grant.scopes).length);
    if (!covering.length) assertScopesWithin(scopes, redelegable.flatMap((candidate) => candidate.grant.scopes), resource);
    // The roomiest first: most depth left, then the longest-lived, then the oldest.
    covering.sort(
      (a, b) =>
        b.grant.redelegationMaxDepth - a.grant.redelegationMaxDepth ||
        b.grant.expiresAt.getTime() - a.grant.expiresAt.getTime() ||
        a.grant.createdAt.getTime() - b.grant.createdAt.getTime(),
    );
    let refusal: unknown;
    for (const parent of covering) {
      try {
        const limits = childLimits(parent.grant, child);
        return { kind: 'redelegation', parent, ...limits };
      } catch (error) {
        refusal ??= error;
      }
    }
    throw refusal;
  }

  private async device(tenant: string, serial: string): Promise<DeviceView | null> {
    try {
      return (await this.registry.send(FindDeviceBySerial, { tenant, serial })).device;
    } catch (error) {
      if (ContractError.is(error, 'not_found')) return null;
      throw error;
    }
  }
}

function notYours(resource: string): ContractError {
  return new ContractError('forbidden', 'you can only share what you own, or a grant you hold that allows re-delegation', { resource });
}
