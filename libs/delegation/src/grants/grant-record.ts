import type { Actor, DelegationConstraints, GrantAuditRecord, GrantStatus, GrantView } from '@latchkey/contracts';

/** A row of `delegation.grant` under the names the code uses. */
export interface GrantRecord {
  id: string;
  tenant: string;
  delegatorId: string;
  delegatorName: string;
  delegateeType: 'user' | 'client';
  delegateeId: string;
  delegateeName: string;
  resource: string;
  scopes: string[];
  notBefore: Date;
  expiresAt: Date;
  constraints: DelegationConstraints | null;
  maxUses: number | null;
  redelegationAllowed: boolean;
  redelegationMaxDepth: number;
  depth: number;
  parentId: string | null;
  /** The grants this one was re-delegated from, the root first. */
  ancestors: string[];
  rootDelegatorId: string;
  status: GrantStatus;
  uses: number;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
  endedByType: Actor['type'] | null;
  endedById: string | null;
  reason: string | null;
}

/** A grant and the grants it was re-delegated from: `chain` is root first and ends with `grant`. */
export interface ChainedGrant {
  grant: GrantRecord;
  chain: GrantRecord[];
}

export interface AuditRecordRow {
  id: string;
  grantId: string;
  event: GrantAuditRecord['event'];
  actorType: Actor['type'];
  actorId: string;
  at: Date;
  reason: string | null;
  details: Record<string, unknown>;
}

export function grantView(grant: GrantRecord): GrantView {
  return {
    id: grant.id,
    tenant: grant.tenant,
    delegator: { id: grant.delegatorId, name: grant.delegatorName },
    rootDelegatorId: grant.rootDelegatorId,
    delegatee: { type: grant.delegateeType, id: grant.delegateeId, name: grant.delegateeName },
    resource: grant.resource,
    scopes: grant.scopes,
    notBefore: grant.notBefore.toISOString(),
    expiresAt: grant.expiresAt.toISOString(),
    constraints: grant.constraints,
    redelegation: { allowed: grant.redelegationAllowed, maxDepth: grant.redelegationMaxDepth },
    depth: grant.depth,
    parentId: grant.parentId,
    status: grant.status,
    uses: grant.uses,
    createdAt: grant.createdAt.toISOString(),
    updatedAt: grant.updatedAt.toISOString(),
    endedAt: grant.endedAt?.toISOString() ?? null,
    endedBy: grant.endedByType && grant.endedById ? { type: grant.endedByType, id: grant.endedById } : null,
    reason: grant.reason,
  };
}

export function auditView(row: AuditRecordRow): GrantAuditRecord {
  return {
    id: row.id,
    grantId: row.grantId,
    event: row.event,
    actor: { type: row.actorType, id: row.actorId },
    at: row.at.toISOString(),
    reason: row.reason,
    details: row.details,
  };
}

/** May this grant be re-delegated at all (one more hop below it)? */
export function isRedelegable(grant: GrantRecord): boolean {
  return grant.redelegationAllowed && grant.redelegationMaxDepth >= 1;
}
