import { type AccessTokenClaims, type Actor, CheckGrant, ContractError, type GrantView } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';

/** A usable grant comes with the grant itself: the policy decision point checks its window and constraints too. */
export type DelegationCheck = { usable: true; actor: Actor; grantScopes: readonly string[]; grant: GrantView } | { usable: false; reason: string };

/**
 * A delegated token is checked again at every use, not only when it was issued: its grant may have
 * been revoked or declined since, or its constraints (weekdays, time of day) may refuse now although
 * they allowed it an hour ago. The delegation service answers from its own clock and state; nothing is
 * cached beyond the request, so a revocation or a closing time window takes effect at once.
 *
 * The grant must be the acting party's: the outermost `act.sub` (RFC 8693 §4.1, the current actor) is
 * the delegatee of `gid`, and the grant's delegatee type says whether that is a person or an app.
 */
export async function checkDelegation(messaging: ContractClient, tenant: string, claims: Pick<AccessTokenClaims, 'act' | 'gid'>): Promise<DelegationCheck> {
  const { act, gid } = claims;
  if (!act || !gid) return { usable: false, reason: 'a delegated token names both its acting party and its grant' };
  let checked;
  try {
    checked = await messaging.send(CheckGrant, { tenant, grantId: gid });
  } catch (error) {
    // A gid outside the contract (not a UUID) or a grant that is gone names nothing usable.
    if (ContractError.is(error, 'invalid_request') || ContractError.is(error, 'not_found')) return { usable: false, reason: 'the grant does not exist' };
    throw error;
  }
  if (!checked.usable) return { usable: false, reason: checked.reason };
  const { grant } = checked;
  if (grant.tenant !== tenant || grant.delegatee.id !== act.sub) return { usable: false, reason: 'the token does not match its grant' };
  return { usable: true, actor: { type: grant.delegatee.type, id: act.sub }, grantScopes: grant.scopes, grant };
}
