import type { AccessTokenClaims, Actor, ActorClaimValue, GrantView } from '@latchkey/contracts';

/**
 * Who calls a bearer-protected API: the verified token's claims, its scopes, and the actor of changes.
 * For a delegated token (RFC 8693: `act`, `gid`) the actor is the acting party and `onBehalfOf` the
 * person it acts for (`sub`), so that an audit trail says "Bianca, for Adam, under grant g".
 */
export interface Principal {
  tenant: string;
  claims: AccessTokenClaims;
  scopes: readonly string[];
  /** Who acts: a delegated token's acting party (`act.sub`), else the token's own subject. */
  actor: Actor;
  /** A delegated token's `sub`: the person the actor acts for; null for a direct token. */
  onBehalfOf: string | null;
  /** A delegated token's RFC 8693 §4.1 actor chain (outermost = the current actor); null for a direct token. */
  act: ActorClaimValue | null;
  /** The delegation grant a delegated token was issued under; null for a direct token. */
  gid: string | null;
  /** That grant as the delegation service described it when it checked it for this request; null for a direct token. */
  grant: GrantView | null;
}

/** A token that acts for someone else: it names an acting party or a delegation grant. */
export function isDelegated(claims: Pick<AccessTokenClaims, 'act' | 'gid'>): boolean {
  return claims.act !== undefined || claims.gid !== undefined;
}

/**
 * The actor a direct (not delegated) token stands for: a device when the token says which type of
 * device it is (`device_type`), an app or service acting for itself (client credentials: `sub` =
 * `client_id`), otherwise the person in `sub`.
 */
export function actorOf(claims: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'device_type'>): Actor {
  if (claims.device_type) return { type: 'device', id: claims.sub };
  if (claims.sub === claims.client_id) return { type: 'client', id: claims.sub };
  return { type: 'user', id: claims.sub };
}

/** The token's audiences (`aud` is a string or a list, RFC 7519 §4.1.3). */
export function audiencesOf(claims: Pick<AccessTokenClaims, 'aud'>): readonly string[] {
  return typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
}
