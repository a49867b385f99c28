import { ContractError, type DelegationConstraints } from '@latchkey/contracts';
import type { GrantRecord } from './grant-record.js';

/** A grant's validity window as asked for, before anything is looked up. */
export interface RequestedWindow {
  notBefore?: Date;
  expiresAt: Date;
}

/**
 * The window of a new grant: `notBefore` defaults to now; `expiresAt` must be after it, in the future,
 * and at most `maxGrantSeconds` ahead of now.
 */
export function grantWindow(now: Date, requested: RequestedWindow, maxGrantSeconds: number): { notBefore: Date; expiresAt: Date } {
  const notBefore = requested.notBefore ?? now;
  const { expiresAt } = requested;
  if (expiresAt.getTime() <= now.getTime()) throw new ContractError('validation_failed', 'expiresAt is in the past', { field: 'expiresAt' });
  if (expiresAt.getTime() <= notBefore.getTime()) throw new ContractError('validation_failed', 'expiresAt must be after notBefore', { field: 'expiresAt' });
  if (expiresAt.getTime() - now.getTime() > maxGrantSeconds * 1000) {
    throw new ContractError('validation_failed', `a grant may last at most ${maxGrantSeconds} seconds from now`, { field: 'expiresAt', maxGrantSeconds });
  }
  return { notBefore, expiresAt };
}

/** The requested scopes outside `allowed`, in the order asked (each once). */
export function scopesBeyond(requested: readonly string[], allowed: readonly string[]): string[] {
  const permitted = new Set(allowed);
  return [...new Set(requested.filter((scope) => !permitted.has(scope)))];
}

/** Refuses scopes beyond what the delegator may share, naming them. */
export function assertScopesWithin(requested: readonly string[], allowed: readonly string[], resource: string): void {
  const beyond = scopesBeyond(requested, allowed);
  if (beyond.length) throw scopesRefusal(beyond, resource);
}

export function scopesRefusal(beyond: readonly string[], resource: string): ContractError {
  return new ContractError('forbidden', `you may not share ${beyond.join(', ')} on ${resource}`, { scopes: [...beyond], resource });
}

/**
 * What a delegated token may carry under a grant: the requested scopes the grant has (in the order
 * asked), or all of the grant's when none were asked for. Empty when none of the requested ones is.
 */
export function grantedScopes(requested: readonly string[], grantScopes: readonly string[]): string[] {
  if (!requested.length) return [...grantScopes];
  const granted = new Set(grantScopes);
  return [...new Set(requested.filter((scope) => granted.has(scope)))];
}

export interface ChildRequest {
  expiresAt: Date;
  redelegation: { allowed: boolean; maxDepth: number };
  constraints: DelegationConstraints | null;
}

/**
 * The limits a re-delegation inherits from the grant it comes from: it cannot go deeper (its maxDepth
 * is at most the parent's minus one), cannot outlive it, and is at least as constrained — it inherits
 * the parent's constraints when it gives none; when it gives its own, the parent's still apply at every
 * use, because the whole chain is evaluated (`evaluateChain`).
 */
export function childLimits(parent: GrantRecord, child: ChildRequest): { depth: number; constraints: DelegationConstraints | null } {
  if (!parent.redelegationAllowed || parent.redelegationMaxDepth < 1) {
    throw new ContractError('forbidden', 'the grant you hold does not allow re-delegation', { parentId: parent.id });
  }
  if (child.redelegation.allowed && child.redelegation.maxDepth > parent.redelegationMaxDepth - 1) {
    throw new ContractError('forbidden', `too deep: this grant may be re-delegated at most ${parent.redelegationMaxDepth - 1} more time(s)`, {
      parentId: parent.id,
      maxDepth: parent.redelegationMaxDepth - 1,
    });
  }
  if (child.expiresAt.getTime() > parent.expiresAt.getTime()) {
    throw new ContractError('forbidden', `a re-delegation cannot outlive the grant it comes from (expires ${parent.expiresAt.toISOString()})`, {
      parentId: parent.id,
      expiresAt: parent.expiresAt.toISOString(),
    });
  }
  return { depth: parent.depth + 1, constraints: child.constraints ?? parent.constraints };
}

/** The canonical re-delegation terms: a grant that may not be re-delegated has no depth to give. */
export function normalRedelegation(redelegation: { allowed: boolean; maxDepth?: number | undefined } | undefined): { allowed: boolean; maxDepth: number } {
  if (!redelegation?.allowed) return { allowed: false, maxDepth: 0 };
  // "May share it on" with no depth means one more hop: a depth of 0 would allow nothing.
  return { allowed: true, maxDepth: redelegation.maxDepth ?? 1 };
}
