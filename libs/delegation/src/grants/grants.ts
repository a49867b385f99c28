import { randomUUID } from 'node:crypto';
import type { TenantDirectory } from '@latchkey/config';
import { type Actor, ContractError, type CreateGrant, decodeCursor, encodeCursor, type GetGrant, type GrantStatus, type GrantView, type ListGrants, type ParsedRequestOf, type ReplyOf } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import { GrantCursorKey } from './cursor.js';
import { auditView, type GrantRecord, grantView } from './grant-record.js';
import { grantWindow, normalRedelegation } from './grant-rules.js';
import type { GrantStore, Queryable } from './grant-store.js';
import type { Parties } from './parties.js';
import type { ResourceAuthority } from './resource-authority.js';

type ListQuery = Omit<ParsedRequestOf<typeof ListGrants>, 'tenant'>;

/**
 * Sharing: create, list, read, revoke and decline grants. Every change is one transaction that writes
 * the change, its audit records and its events (outbox) together; ending a grant ends every grant
 * re-delegated from it in the same transaction.
 */
export class Grants {
  constructor(
    private readonly store: GrantStore,
    private readonly tenants: TenantDirectory,
    private readonly parties: Parties,
    private readonly authority: ResourceAuthority,
    private readonly clock: Clock,
  ) {}

  /** The actor (a person) shares `scopes` on `resource` with the delegatee, within what they may share. */
  async create(request: ParsedRequestOf<typeof CreateGrant>): Promise<GrantView> {
    const { tenant, actor, resource } = request;
    const config = this.tenants.get(tenant);
    if (actor.type !== 'user') throw new ContractError('forbidden', 'only a person can share');
    const now = new Date(this.clock());
    const window = grantWindow(
      now,
      { ...(request.notBefore ? { notBefore: new Date(request.notBefore) } : {}), expiresAt: new Date(request.expiresAt) },
      config.delegation.maxGrantSeconds,
    );
    if (request.delegatee.type === 'user' && request.delegatee.id === actor.id) throw selfGrant();
    const scopes = [...new Set(request.scopes)];
    const redelegation = normalRedelegation(request.redelegation);
    const child = { expiresAt: window.expiresAt, redelegation, constraints: request.constraints ?? null };
    // Three independent look-ups at once; their failures are reported in this order.
    const [delegatorName, basis, delegatee] = await settleInOrder([
      this.parties.delegatorName(tenant, actor.id),
      this.authority.basisFor(tenant, actor.id, resource, scopes, child, now),
      this.parties.delegatee(tenant, request.delegatee),
    ] as const);
    if (delegatee.type === 'user' && delegatee.id === actor.id) throw selfGrant();
    const parent = basis.kind === 'redelegation' ? basis.parent : null;
    if (parent?.chain.some((link) => link.delegatorId === delegatee.id || (link.delegateeType === delegatee.type && link.delegateeId === delegatee.id))) {
      throw new ContractError('validation_failed', 'the delegatee is already part of the chain this grant comes from', { field: 'delegatee' });
    }
    const grant: GrantRecord = {
      id: randomUUID(),
      tenant,
      delegatorId: actor.id,
      delegatorName,
      delegateeType: delegatee.type,
      delegateeId: delegatee.id,
      delegateeName: delegatee.name,
      resource,
      scopes,
      notBefore: window.notBefore,
      expiresAt: window.expiresAt,
      constraints: basis.constraints,
      maxUses: basis.constraints?.maxUses ?? null,
      redelegationAllowed: redelegation.allowed,
      redelegationMaxDepth: redelegation.maxDepth,
      depth: basis.depth,
      parentId: parent?.grant.id ?? null,
      ancestors: parent ? [...parent.grant.ancestors, parent.grant.id] : [],
      rootDelegatorId: parent ? parent.grant.rootDelegatorId : actor.id,
      status: 'active',
      uses: 0,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
      endedByType: null,
      endedById: null,
      reason: null,
    };
    return this.store.write(async (tx) => {
      if (parent) {
        // The chain must still be there when this grant is: a revocation racing this one either waits
        // for it (and then ends it too) or has ended the chain already, which is seen here.
        const ids = parent.chain.map((link) => link.id);
        const locked = await this.store.lockShared(tx, tenant, ids);
        if (locked.length !== ids.length || locked.some((link) => link.status !== 'active')) {
          throw new ContractError('forbidden', `the grant you hold on ${resource} has just ended`);
        }
      }
      await this.store.insert(tx, grant);
      await this.store.record(tx, [
        {
          grant,
          event: 'granted',
          actor,
          at: now,
          reason: null,
          details: { basis: basis.kind, scopes, resource, delegatee: { type: delegatee.type, id: delegatee.id }, ...(parent ? { parentId: parent.grant.id } : {}) },
        },
      ]);
      return grantView(grant);
    });
  }

  /** Newest first; `cursor` continues exactly where the previous page ended. */
  async list(tenant: string, query: ListQuery): Promise<ReplyOf<typeof ListGrants>> {
    this.tenants.get(tenant);
    const before = query.cursor ? decodeCursor(query.cursor, GrantCursorKey) : undefined;
    const rows = await this.store.list(tenant, {
      role: query.role,
      party: query.party,
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.resource ? { resource: query.resource } : {}),
      ...(before ? { before: { createdAt: new Date(before[0]), id: before[1] } } : {}),
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(grantView), nextCursor: rows.length > query.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
  }

  /** Visible to its delegator, its delegatee and an admin; to anyone else it does not exist. */
  async get(tenant: string, grantId: string, actor: Actor, admin: boolean): Promise<ReplyOf<typeof GetGrant>> {
    this.tenants.get(tenant);
    const grant = await this.store.find(tenant, grantId);
    if (!grant || !(admin || isDelegator(grant, actor) || isDelegatee(grant, actor))) throw grantNotFound();
    const audit = await this.store.audit(tenant, grantId);
    return { grant: grantView(grant), audit: audit.map(auditView) };
  }

  /** By its delegator or an admin: the grant and every grant re-delegated from it end. */
  async revoke(tenant: string, grantId: string, actor: Actor, admin: boolean, reason?: string): Promise<{ grant: GrantView; alsoRevoked: string[] }> {
    this.tenants.get(tenant);
    return this.store.write(async (tx) => {
      const grant = await this.store.lock(tx, tenant, grantId);
      if (!grant || !(admin || isDelegator(grant, actor) || isDelegatee(grant, actor))) throw grantNotFound();
      if (!admin && !isDelegator(grant, actor)) {
        throw new ContractError('forbidden', 'only the delegator of a grant (or an admin) can revoke it; its delegatee can decline it');
      }
      assertActive(grant, 'revoke');
      const { ended, cascaded } = await this.endWithDescendants(tx, grant, 'revoked', actor, reason ?? null);
      return { grant: grantView(ended), alsoRevoked: cascaded.map((descendant) => descendant.id) };
    });
  }

  /** By its delegatee: "no, thanks"; the grants they re-delegated from it end too. */
  async decline(tenant: string, grantId: string, actor: Actor, reason?: string): Promise<GrantView> {
    this.tenants.get(tenant);
    return this.store.write(async (tx) => {
      const grant = await this.store.lock(tx, tenant, grantId);
      if (!grant || !(isDelegator(grant, actor) || isDelegatee(grant, actor))) throw grantNotFound();
      if (!isDelegatee(grant, actor)) throw new ContractError('forbidden', 'only the delegatee of a grant can decline it; its delegator can revoke it');
      assertActive(grant, 'decline');
      const { ended } = await this.endWithDescendants(tx, grant, 'declined', actor, reason ?? null);
      return grantView(ended);
    });
  }

  /**
   * Ends a locked active grant and every active grant re-delegated from it (those as `revoked`, saying
   * why), with an audit record and an event each.
   */
  private async endWithDescendants(tx: Queryable, grant: GrantRecord, status: 'revoked' | 'declined', actor: Actor, reason: string | null) {
    const at = new Date(this.clock());
    const descendants = await this.store.lockActiveDescendants(tx, grant.tenant, [grant.id]);
    const why = `the grant it was re-delegated from was ${status}${reason ? `: ${reason}` : ''}`;
    const [ended] = await this.store.end(tx, grant.tenant, [{ id: grant.id, reason }], status, actor, at);
    const order = new Map(descendants.map((descendant, index) => [descendant.id, index]));
    const cascaded = (
      await this.store.end(
        tx,
        grant.tenant,
        descendants.map((descendant) => ({ id: descendant.id, reason: why })),
        'revoked',
        actor,
        at,
      )
    ).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    await this.store.record(tx, [
      { grant: ended!, event: status, actor, at, reason, details: cascaded.length ? { alsoRevoked: cascaded.map((descendant) => descendant.id) } : {} },
      ...cascaded.map((descendant) => ({ grant: descendant, event: 'revoked' as const, actor, at, reason: why, details: { cascadeFrom: grant.id } })),
    ]);
    return { ended: ended!, cascaded };
  }
}

export function isDelegator(grant: GrantRecord, actor: Actor): boolean {
  return actor.type === 'user' && grant.delegatorId === actor.id;
}

export function isDelegatee(grant: GrantRecord, actor: Actor): boolean {
  return grant.delegateeType === actor.type && grant.delegateeId === actor.id;
}

function assertActive(grant: GrantRecord, action: string): void {
  if (grant.status !== 'active') {
    throw new ContractError('conflict', `cannot ${action} a grant that is ${grant.status}`, { status: grant.status satisfies GrantStatus, action });
  }
}

function grantNotFound(): ContractError {
  return new ContractError('not_found', 'no such grant');
}

function selfGrant(): ContractError {
  return new ContractError('validation_failed', 'you cannot delegate to yourself', { field: 'delegatee' });
}

type Settled<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/** Waits for every promise; throws the failure of the first one (in the given order) that failed. */
async function settleInOrder<T extends readonly Promise<unknown>[]>(promises: T): Promise<Settled<T>> {
  const outcomes = await Promise.allSettled(promises);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as Settled<T>;
}
