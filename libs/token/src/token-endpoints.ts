import { ContractError, type GetJwks, type IntrospectionResponse, type IntrospectToken, type IssueToken, type ParsedRequestOf, type RevokeToken, type TokenResponse, type VerifyAccessToken, type ReplyOf } from '@latchkey/contracts';
import type { ClientAuthenticator } from './clients/client-authenticator.js';
import type { GrantHandler } from './grants/grant-handler.js';
import type { SigningKeys } from './keys/signing-keys.js';
import { issuerOf, type TenantDirectory } from '@latchkey/config';
import { recordTokenIssued } from '@latchkey/messaging';
import type { AccessTokens } from './tokens/access-tokens.js';
import type { RefreshTokens } from './tokens/refresh-tokens.js';
import type { Revocations } from './tokens/revocations.js';

export interface RevocationListener {
  tokenRevoked(tenant: string, jti: string, expiresAt: Date): Promise<void>;
}

/** The token service's use-cases behind the token, introspection and revocation endpoints. */
export class TokenEndpoints {
  private readonly grants: ReadonlyMap<string, GrantHandler>;

  constructor(
    private readonly tenants: TenantDirectory,
    private readonly authenticator: ClientAuthenticator,
    grants: GrantHandler[],
    private readonly accessTokens: AccessTokens,
    private readonly revocations: Revocations,
    private readonly listener: RevocationListener,
    private readonly keys: SigningKeys,
    private readonly refreshTokens: RefreshTokens,
    private readonly publicUrl: string,
  ) {
    this.grants = new Map(grants.map((grant) => [grant.grantType, grant]));
  }

  get supportedGrantTypes(): string[] {
    return [...this.grants.keys()];
  }

  /** RFC 6749 §3.2. */
  async issue(request: ParsedRequestOf<typeof IssueToken>): Promise<TokenResponse> {
    const tenant = this.tenants.get(request.tenant);
    const grant = this.grants.get(request.grantType);
    if (!grant) throw new ContractError('unsupported_grant_type', `unsupported grant_type ${request.grantType}`);
    const client = await this.authenticator.authenticate(tenant.id, request.client);
    if (!client.grantTypes.includes(grant.grantType)) {
      throw new ContractError('unauthorized_client', `client is not allowed to use ${grant.grantType}`);
    }
    const response = await grant.handle({ tenant, client, parameters: request.parameters });
    recordTokenIssued(grant.grantType);
    return response;
  }

  /**
   * RFC 7662 §2: only an authenticated confidential client may ask (§2.1: a public client is refused,
   * `invalid_client`); anything not valid here is simply inactive. An access token (a JWT) is
   * introspected by any client of the tenant (resource servers); a refresh token only by the client it
   * was issued to (RFC 7662 §4) — for anyone else it is inactive. `token_type_hint` only decides which
   * kind is looked at first (§2.1).
   */
  async introspect(request: ParsedRequestOf<typeof IntrospectToken>): Promise<IntrospectionResponse> {
    const tenant = this.tenants.get(request.tenant);
    const client = await this.authenticator.authenticateConfidential(tenant.id, request.client);
    const lookups = [() => this.introspectAccessToken(tenant.id, request.token), () => this.introspectRefreshToken(tenant.id, client.clientId, request.token)];
    if (request.tokenTypeHint === 'refresh_token') lookups.reverse();
    for (const lookup of lookups) {
      const answer = await lookup();
      if (answer) return answer;
    }
    return { active: false };
  }

  private async introspectAccessToken(tenant: string, token: string): Promise<IntrospectionResponse | null> {
    const claims = await this.accessTokens.verify(tenant, token);
    if (!claims || (await this.revocations.isRevoked(tenant, claims))) return null;
    return {
      active: true,
      token_type: 'Bearer',
      ...(claims.scope ? { scope: claims.scope } : {}),
      client_id: claims.client_id,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      tenant: claims.tenant,
      ...(claims.device_type !== undefined ? { device_type: claims.device_type } : {}),
      ...(claims.owner !== undefined ? { owner: claims.owner } : {}),
      // RFC 8693 §4.1 / §4.4 on a delegated token (docs/adr/0021).
      ...(claims.act !== undefined ? { act: claims.act } : {}),
      ...(claims.gid !== undefined ? { gid: claims.gid } : {}),
    };
  }

  /** RFC 7662 §2.2 for a live refresh token: the family's scope and user, the token's own expiry. */
  private async introspectRefreshToken(tenant: string, clientId: string, token: string): Promise<IntrospectionResponse | null> {
    const presented = await this.refreshTokens.find(tenant, token);
    if (!presented || presented.family.clientId !== clientId || !this.refreshTokens.isLive(presented)) return null;
    const { family } = presented;
    const exp = Math.min(presented.idleExpiresAt.getTime(), family.absoluteExpiresAt.getTime());
    return {
      active: true,
      token_type: 'refresh_token',
      ...(family.scopes.length ? { scope: family.scopes.join(' ') } : {}),
      client_id: family.clientId,
      sub: family.userId,
      iss: issuerOf(this.publicUrl, tenant),
      exp: Math.floor(exp / 1000),
      iat: Math.floor(presented.createdAt.getTime() / 1000),
    };
  }

  /**
   * `latchkey.token.v1.verify-access-token`: the platform's own check of a bearer token (userinfo, the
   * gateway's guard). Same rules as introspection, without client authentication; revocation counts —
   * by jti, by the subject's cut-off (a suspended device; docs/adr/0017) and by the grant of a delegated
   * token (docs/adr/0021), checked in one query.
   */
  async verifyAccessToken(request: ParsedRequestOf<typeof VerifyAccessToken>): Promise<ReplyOf<typeof VerifyAccessToken>> {
    const tenant = this.tenants.get(request.tenant);
    const claims = await this.accessTokens.verify(tenant.id, request.token);
    if (!claims || (await this.revocations.isRevoked(tenant.id, claims))) return { active: false };
    return { active: true, claims };
  }

  /**
   * RFC 7009 §2.1: revoking an invalid or unknown token succeeds without effect. An access token is
   * revoked by its jti; a refresh token revokes its whole family and the access tokens issued in it
   * (RFC 7009 §2.1 allows it, RFC 9700 §4.14.2 wants it). `token_type_hint` orders the lookups only.
   * Public clients may revoke too (§2.1 checks credentials "in case of a confidential client"), but
   * like every client only what was issued to them: anything else is refused (`invalid_request`).
   */
  async revoke(request: ParsedRequestOf<typeof RevokeToken>): Promise<{ revoked: boolean }> {
    const tenant = this.tenants.get(request.tenant);
    const client = await this.authenticator.authenticate(tenant.id, request.client);
    const lookups = [() => this.revokeAccessToken(tenant.id, client.clientId, request.token), () => this.revokeRefreshToken(tenant.id, client.clientId, request.token)];
    if (request.tokenTypeHint === 'refresh_token') lookups.reverse();
    for (const lookup of lookups) {
      const revoked = await lookup();
      if (revoked !== null) return { revoked };
    }
    return { revoked: false };
  }

  /** RFC 7009 §2.1: the family of a refresh token issued to this client; null when it is not one of ours. */
  private async revokeRefreshToken(tenant: string, clientId: string, token: string): Promise<boolean | null> {
    const presented = await this.refreshTokens.find(tenant, token);
    if (!presented) return null;
    if (presented.family.clientId !== clientId) throw new ContractError('invalid_request', 'the token was not issued to this client');
    await this.refreshTokens.revokeFamily(presented.family.id, 'revoked by the client');
    return true;
  }

  private async revokeAccessToken(tenant: string, clientId: string, token: string): Promise<boolean | null> {
    const claims = await this.accessTokens.verify(tenant, token);
    if (!claims) return null;
    if (claims.client_id !== clientId) {
      throw new ContractError('invalid_request', 'the token was not issued to this client');
    }
    const expiresAt = new Date(claims.exp * 1000);
    await this.revocations.revoke(tenant, claims.jti, clientId, expiresAt);
    await this.listener.tokenRevoked(tenant, claims.jti, expiresAt);
    return true;
  }

  /** The JWKS of a tenant (RFC 7517), including retired keys whose tokens may still be live. */
  async jwks(request: ParsedRequestOf<typeof GetJwks>) {
    const tenant = this.tenants.get(request.tenant);
    return { keys: await this.keys.jwks(tenant.id) };
  }
}
