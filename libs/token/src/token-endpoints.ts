import { ContractError, type GetJwks, type IntrospectionResponse, type IntrospectToken, type IssueToken, type ParsedRequestOf, type RevokeToken, type TokenResponse, type VerifyAccessToken, type ReplyOf } from '@latchkey/contracts';
import type { ClientAuthenticator } from './clients/client-authenticator.js';
import type { GrantHandler } from './grants/grant-handler.js';
import type { SigningKeys } from './keys/signing-keys.js';
import type { TenantDirectory } from '@latchkey/config';
import type { AccessTokens } from './tokens/access-tokens.js';
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
    return grant.handle({ tenant, client, parameters: request.parameters });
  }

  /** RFC 7662 §2: only an authenticated client may ask; anything not valid here is simply inactive. */
  async introspect(request: ParsedRequestOf<typeof IntrospectToken>): Promise<IntrospectionResponse> {
    const tenant = this.tenants.get(request.tenant);
    await this.authenticator.authenticate(tenant.id, request.client);
    const claims = await this.accessTokens.verify(tenant.id, request.token);
    if (!claims || (await this.revocations.isRevoked(tenant.id, claims.jti))) return { active: false };
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
    };
  }

  /**
   * `latchkey.token.v1.verify-access-token`: the platform's own check of a bearer token (userinfo, the
   * gateway's guard). Same rules as introspection, without client authentication; revocation counts.
   */
  async verifyAccessToken(request: ParsedRequestOf<typeof VerifyAccessToken>): Promise<ReplyOf<typeof VerifyAccessToken>> {
    const tenant = this.tenants.get(request.tenant);
    const claims = await this.accessTokens.verify(tenant.id, request.token);
    if (!claims || (await this.revocations.isRevoked(tenant.id, claims.jti))) return { active: false };
    return { active: true, claims };
  }

  /** RFC 7009 §2.1: revoking an invalid or unknown token succeeds without effect. */
  async revoke(request: ParsedRequestOf<typeof RevokeToken>): Promise<{ revoked: boolean }> {
    const tenant = this.tenants.get(request.tenant);
    const client = await this.authenticator.authenticate(tenant.id, request.client);
    const claims = await this.accessTokens.verify(tenant.id, request.token);
    if (!claims) return { revoked: false };
    if (claims.client_id !== client.clientId) {
      throw new ContractError('invalid_request', 'the token was not issued to this client');
    }
    const expiresAt = new Date(claims.exp * 1000);
    await this.revocations.revoke(tenant.id, claims.jti, client.clientId, expiresAt);
    await this.listener.tokenRevoked(tenant.id, claims.jti, expiresAt);
    return { revoked: true };
  }

  /** The JWKS of a tenant (RFC 7517), including retired keys whose tokens may still be live. */
  async jwks(request: ParsedRequestOf<typeof GetJwks>) {
    const tenant = this.tenants.get(request.tenant);
    return { keys: await this.keys.jwks(tenant.id) };
  }
}
