import type { ClientAuthenticationMethod } from '@latchkey/contracts';

/** A registered client as the domain sees it. */
export interface OAuthClient {
  tenant: string;
  clientId: string;
  secretHash: string | null;
  authMethods: ClientAuthenticationMethod[];
  grantTypes: string[];
  scopes: string[];
  redirectUris: string[];
  accessTokenTtlSeconds: number | null;
}
