import { type AccessTokenClaims, type DelegatedTokenEntry, IssueDelegatedTokens } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { actorOf, isDelegated } from '../auth/principal.js';

/** The scope that asks userinfo for the `delegations` claim. */
export const DELEGATIONS_SCOPE = 'delegations';

export type DelegationsClaim = Record<string, DelegatedTokenEntry>;

/**
 * The claim is for a person's own token with the `delegations` scope. Never for a delegated token:
 * Bianca acting for Adam must not collect what others shared with Adam (that would be re-delegation
 * without a grant that allows it); nor for an app's or a device's token, which is nobody's userinfo.
 */
export function wantsDelegations(claims: AccessTokenClaims, scopes: readonly string[]): boolean {
  return scopes.includes(DELEGATIONS_SCOPE) && !isDelegated(claims) && actorOf(claims).type === 'user';
}

/** One delegated access token per grant usable now, issued to the client that called userinfo. */
export async function delegationsOf(messaging: ContractClient, tenant: string, claims: AccessTokenClaims): Promise<DelegationsClaim> {
  const { delegations } = await messaging.send(IssueDelegatedTokens, { tenant, userId: claims.sub, clientId: claims.client_id });
  return delegations;
}

/** The identity claims with `delegations` added (an empty object when nothing is shared: the app can tell "none" from "not asked"). */
export function withDelegations(claims: Readonly<Record<string, unknown>>, delegations: DelegationsClaim): Record<string, unknown> {
  return { ...claims, delegations };
}
