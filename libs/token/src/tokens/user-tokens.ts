import { issuerOf, type TenantConfig } from '@latchkey/config';
import type { TokenResponse } from '@latchkey/contracts';
import type { OAuthClient } from '../clients/oauth-client.js';
import type { AccessTokens } from './access-tokens.js';
import type { IdTokens } from './id-tokens.js';
import type { FamilyGrant, RefreshLifetimes } from './refresh-tokens.js';

/** Default refresh-token lifetimes when neither the client nor the options say otherwise. */
export const DEFAULT_REFRESH_ABSOLUTE_SECONDS = 30 * 24 * 3600;
export const DEFAULT_REFRESH_IDLE_SECONDS = 14 * 24 * 3600;

export interface UserGrant {
  tenant: TenantConfig;
  client: OAuthClient;
  userId: string;
  /** The scopes of this access token (a refresh may narrow the family's). */
  scopes: string[];
  authTime: number;
  amr: string[];
  acr: string;
  /** The identity session behind the grant (the ID token's `sid`); null when there was none. */
  sessionId: string | null;
  nonce?: string;
}

export interface SignedUserTokens {
  response: Omit<TokenResponse, 'refresh_token'>;
  jti: string;
  expiresAt: Date;
}

/**
 * The tokens a person's authorization yields: an RFC 9068 access token (`sub` = the user) and, when
 * `openid` was granted, an OIDC ID token. Signing only; storage is the grant's business.
 */
export class UserTokens {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly idTokens: IdTokens,
    private readonly publicUrl: string,
  ) {}

  async sign(grant: UserGrant): Promise<SignedUserTokens> {
    const lifetimeSeconds = grant.client.accessTokenTtlSeconds ?? grant.tenant.accessTokenTtlSeconds;
    const { token, claims } = await this.accessTokens.issue({
      tenant: grant.tenant.id,
      subject: grant.userId,
      clientId: grant.client.clientId,
      audience: issuerOf(this.publicUrl, grant.tenant.id),
      scopes: grant.scopes,
      lifetimeSeconds,
      // A device client's tokens are dated by its authentication, so that its revocation cut-off covers them (docs/adr/0017).
      issuedAt: grant.client.device?.authenticatedAt,
    });
    // An ID token lives as long as the access token, so key retirement (ADR 0010) already covers it.
    const idToken = grant.scopes.includes('openid')
      ? await this.idTokens.issue({
          tenant: grant.tenant.id,
          clientId: grant.client.clientId,
          alg: grant.client.idTokenSignedResponseAlg,
          userId: grant.userId,
          authTime: grant.authTime,
          amr: grant.amr,
          acr: grant.acr,
          ...(grant.sessionId !== null ? { sessionId: grant.sessionId } : {}),
          ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
          accessToken: token,
          lifetimeSeconds,
        })
      : undefined;
    return {
      response: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: lifetimeSeconds,
        ...(grant.scopes.length ? { scope: grant.scopes.join(' ') } : {}),
        ...(idToken ? { id_token: idToken } : {}),
      },
      jti: claims.jti,
      expiresAt: new Date(claims.exp * 1000),
    };
  }
}

/** RFC 6749 §1.5 + OIDC Core §11: a refresh token only for `offline_access` and a client allowed to refresh. */
export function mayRefresh(client: OAuthClient, scopes: string[]): boolean {
  return scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
}

export type RefreshLifetimesDefaults = Partial<RefreshLifetimes>;

export function refreshLifetimes(client: OAuthClient, defaults: RefreshLifetimesDefaults = {}): RefreshLifetimes {
  return {
    absoluteSeconds: client.refreshTokenAbsoluteLifetimeSeconds ?? defaults.absoluteSeconds ?? DEFAULT_REFRESH_ABSOLUTE_SECONDS,
    idleSeconds: client.refreshTokenIdleLifetimeSeconds ?? defaults.idleSeconds ?? DEFAULT_REFRESH_IDLE_SECONDS,
  };
}

export function familyGrantOf(grant: UserGrant): FamilyGrant {
  return { tenant: grant.tenant.id, clientId: grant.client.clientId, userId: grant.userId, scopes: grant.scopes, authTime: grant.authTime, amr: grant.amr, acr: grant.acr, sessionId: grant.sessionId };
}
