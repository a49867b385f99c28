import type { AccessTokenClaims, Actor } from '@latchkey/contracts';

/** Who calls a bearer-protected API: the verified token's claims, its scopes, and the actor of changes. */
export interface Principal {
  tenant: string;
  claims: AccessTokenClaims;
  scopes: readonly string[];
  actor: Actor;
}

/**
 * The actor a verified token stands for: a device when the token says which type of device it is
 * (`device_type`), an app or service acting for itself (client credentials: `sub` = `client_id`),
 * otherwise the person in `sub`. A delegated token (`act`) still acts as its `sub` (ARCHITECTURE: APIs
 * treat delegated and direct tokens alike).
 */
export function actorOf(claims: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'device_type'>): Actor {
  if (claims.device_type) return { type: 'device', id: claims.sub };
  if (claims.sub === claims.client_id) return { type: 'client', id: claims.sub };
  return { type: 'user', id: claims.sub };
}
