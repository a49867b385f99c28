import type { ClientAuthenticationMethod, ClientJwks } from '@latchkey/contracts';

/** Algorithms a client may register for its ID tokens (OpenID Connect Registration). */
export type IdTokenSigningAlg = 'ES256' | 'RS256';

/** What the device registry vouched for when a device authenticated as a client (docs/adr/0017). */
export interface ClientDevice {
  /** The device id, which is also the client_id. */
  id: string;
  type: string;
  /** The owner's user id; null for an unowned device. */
  ownerId: string | null;
  /**
   * When the registry was asked (epoch ms, the token service's clock): the tokens issued on this
   * authentication are dated by it, never later (their `iat`; docs/adr/0017).
   */
  authenticatedAt: number;
}

/** A client as the domain sees it: a registered client, or a device of the registry (then `device` is set). */
export interface OAuthClient {
  tenant: string;
  clientId: string;
  displayName: string | null;
  secretHash: string | null;
  authMethods: ClientAuthenticationMethod[];
  grantTypes: string[];
  scopes: string[];
  /** Matched by exact string comparison (RFC 9700 §4.1.3). */
  redirectUris: string[];
  accessTokenTtlSeconds: number | null;
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  /** Null: the token service's default. */
  refreshTokenAbsoluteLifetimeSeconds: number | null;
  refreshTokenIdleLifetimeSeconds: number | null;
  /** Public keys for private_key_jwt (RFC 7523); null when the client has none. */
  jwks: ClientJwks | null;
  /** Set when the client is a device authenticated by the device registry; never for a registered client. */
  device?: ClientDevice;
}
