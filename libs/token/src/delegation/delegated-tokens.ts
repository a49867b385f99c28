import { issuerOf, type TenantConfig } from '@latchkey/config';
import { type ActorClaimValue, ContractError, type UsableGrant } from '@latchkey/contracts';
import type { ScopeQuestion } from '../policy/scope-decisions.js';
import type { AccessTokenClaims, AccessTokens, Clock } from '../tokens/access-tokens.js';

/** A party of a grant chain: a person (user id) or an app (client id). */
export interface GrantParty {
  type: 'user' | 'client';
  id: string;
}

/**
 * RFC 8693 §4.1 `act` from a grant chain. `actors` runs from the first delegatee (the delegatee of the
 * delegator's own grant) down to the current one; the claim nests the other way round: the current
 * actor is outermost, each prior actor one level deeper, the first delegatee innermost. A chain that
 * does not end with the party asking is completed with it, so the outermost `act` always names who acts.
 */
export function actorClaim(actors: readonly GrantParty[], current: GrantParty): ActorClaimValue {
  const chain = actors.length > 0 && sameParty(actors[actors.length - 1]!, current) ? actors : [...actors, current];
  let claim: ActorClaimValue | undefined;
  for (const actor of chain) claim = claim ? { sub: actor.id, act: claim } : { sub: actor.id };
  return claim!;
}

function sameParty(a: GrantParty, b: GrantParty): boolean {
  return a.type === b.type && a.id === b.id;
}

/**
 * What a delegated token may carry: the scopes the grant allows now (UseGrant already narrowed them to
 * the request) that the client is also registered for, in the grant's order. Empty means nothing.
 */
export function delegatedScopes(grantScopes: readonly string[], clientScopes: readonly string[]): string[] {
  return [...new Set(grantScopes.filter((scope) => clientScopes.includes(scope)))];
}

/**
 * What the policy is asked before a delegated token is signed (`token.scope`, docs/adr/0023): may the
 * person at the top of the grant chain, acting through this grant (`act`, `gid`, the grant in the
 * context, as policies/README.md describes a delegated subject), be given each candidate scope, at
 * `nowMs` (pinned, as the gateway pins it for a delegated token's decisions)? No roles: the person's
 * identity roles are the identity service's (the policy still binds roles from its data).
 */
export function delegatedScopeQuestion(usable: UsableGrant, current: GrantParty, scopes: readonly string[], nowMs: number): ScopeQuestion {
  const { grant } = usable;
  return {
    subject: { type: 'user', id: grant.rootDelegatorId, act: actorClaim(usable.actors, current), gid: grant.id },
    scopes,
    context: {
      time: new Date(nowMs).toISOString(),
      grant: {
        id: grant.id,
        status: grant.status,
        delegatee: grant.delegatee.id,
        resource: grant.resource,
        scopes: grant.scopes,
        notBefore: grant.notBefore,
        expiresAt: grant.expiresAt,
        constraints: grant.constraints,
      },
    },
  };
}

/**
 * A delegated token's lifetime in whole seconds: the tenant's `delegation.tokenTtlSeconds`, cut so that
 * `iat + lifetime` (iat = floor(now)) is never after the grant's end. 0 when the grant ends within a
 * second — no token then.
 */
export function delegatedLifetimeSeconds(tokenTtlSeconds: number, grantExpiresAt: Date, nowMs: number): number {
  const remaining = Math.floor((grantExpiresAt.getTime() - nowMs) / 1000);
  return Math.max(0, Math.min(tokenTtlSeconds, remaining));
}

/**
 * The audience of a delegated token (RFC 8707): the shared resource (`device:<serial>`, an absolute URI)
 * or, for a grant of "my account" (`*`), the tenant's issuer like any other token of the tenant.
 */
export function delegatedAudience(resource: string, issuer: string): string {
  return resource === '*' ? issuer : resource;
}

/**
 * Keys of the userinfo `delegations` claim: the delegator's username, then `<username>#2`, `#3`, … for
 * further grants of the same delegator, oldest grant first (ties by id, so the order is stable). A key
 * already taken (a username that itself ends in `#2`) moves on to the next free number.
 */
export function delegationKeys(grants: readonly { id: string; delegatorName: string; createdAt: string }[]): Map<string, string> {
  const ordered = [...grants].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const taken = new Set<string>();
  const keys = new Map<string, string>();
  for (const grant of ordered) {
    let key = grant.delegatorName;
    for (let n = 2; taken.has(key); n += 1) key = `${grant.delegatorName}#${n}`;
    taken.add(key);
    keys.set(grant.id, key);
  }
  return keys;
}

export interface DelegatedToken {
  token: string;
  claims: AccessTokenClaims;
  lifetimeSeconds: number;
  scopes: string[];
  audience: string;
}

/**
 * Signs delegated access tokens (docs/adr/0021): `sub` = the grant's delegator, `act` = the chain of
 * delegatees with the current actor outermost, `gid` = the grant, `client_id` = the client that asked,
 * `aud` = the grant's resource, `scope` = the grant's usable scopes ∩ `allowedScopes` (the client's
 * scopes that the policy allows, docs/adr/0023), and a lifetime that never outlives the grant.
 */
export class DelegatedTokens {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly publicUrl: string,
    private readonly now: Clock = Date.now,
  ) {}

  /** The token, or a refusal when none of the usable scopes is allowed or the grant ends within a second. */
  async sign(tenant: TenantConfig, clientId: string, allowedScopes: readonly string[], usable: UsableGrant, current: GrantParty): Promise<DelegatedToken | { refused: 'scope' | 'lifetime' }> {
    const scopes = delegatedScopes(usable.scopes, allowedScopes);
    if (scopes.length === 0) return { refused: 'scope' };
    const now = this.now();
    const lifetimeSeconds = delegatedLifetimeSeconds(tenant.delegation.tokenTtlSeconds, new Date(usable.grant.expiresAt), now);
    if (lifetimeSeconds < 1) return { refused: 'lifetime' };
    const audience = delegatedAudience(usable.grant.resource, issuerOf(this.publicUrl, tenant.id));
    const { token, claims } = await this.accessTokens.issue({
      tenant: tenant.id,
      // The person at the top of the chain: a re-delegated token acts for the owner, not the middleman.
      subject: usable.grant.rootDelegatorId,
      clientId,
      audience,
      scopes,
      lifetimeSeconds,
      issuedAt: now,
      delegation: { act: actorClaim(usable.actors, current), grantId: usable.grant.id },
    });
    return { token, claims, lifetimeSeconds, scopes, audience };
  }
}

/** Narrows `sign`'s answer to a token, or throws what token exchange answers for a refusal. */
export function signedOrThrow(signed: DelegatedToken | { refused: 'scope' | 'lifetime' }): DelegatedToken {
  if (!('refused' in signed)) return signed;
  if (signed.refused === 'scope') throw new ContractError('invalid_scope', 'none of the scopes the grant allows is registered for this client');
  throw new ContractError('invalid_grant', 'the delegation grant ends within a second');
}
