import type { ClientAuthenticationMethod, ClientJwks } from '@latchkey/contracts';

/** Algorithms a client may register for its ID tokens (OpenID Connect Registration). */
export type IdTokenSigningAlg = 'ES256' | 'RS256';

/** A registered client as the domain sees it. */
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
}
