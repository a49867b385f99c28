import type { TenantConfig } from '@latchkey/config';
import type { TokenResponse } from '@latchkey/contracts';
import type { OAuthClient } from '../clients/oauth-client.js';

export interface GrantRequest {
  tenant: TenantConfig;
  client: OAuthClient;
  parameters: Record<string, string>;
}

/** One OAuth grant: the token endpoint finds it by `grantType`, never by a switch. */
export interface GrantHandler {
  readonly grantType: string;
  handle(request: GrantRequest): Promise<TokenResponse>;
}
