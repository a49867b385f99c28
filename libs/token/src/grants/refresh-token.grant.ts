import { ContractError, RefreshTokenParameters, type TokenResponse } from '@latchkey/contracts';
import type { AccessTokenRevoker, RefreshTokens } from '../tokens/refresh-tokens.js';
import { refreshLifetimes, type RefreshLifetimesDefaults, type UserTokens } from '../tokens/user-tokens.js';
import { parseScope } from '../tokens/scopes.js';
import type { GrantHandler, GrantRequest } from './grant-handler.js';

const invalidGrant = (description: string) => new ContractError('invalid_grant', description);

/**
 * RFC 6749 §6 + RFC 9700 §4.14.2: a client exchanges a refresh token for new tokens. The token is
 * rotated on every use; presenting a spent one revokes its whole family (and the access tokens issued
 * in it). Scope may be narrowed, never widened, and the refresh token keeps the family's scope.
 */
export class RefreshTokenGrant implements GrantHandler {
  readonly grantType = 'refresh_token';

  constructor(
    private readonly refreshTokens: RefreshTokens,
    private readonly tokens: UserTokens,
    private readonly revoker: AccessTokenRevoker,
    private readonly refreshDefaults: RefreshLifetimesDefaults = {},
  ) {}

  async handle({ tenant, client, parameters }: GrantRequest): Promise<TokenResponse> {
    const parsed = RefreshTokenParameters.safeParse(parameters);
    if (!parsed.success) throw new ContractError('invalid_request', 'refresh_token is required');

    const presented = await this.refreshTokens.find(tenant.id, parsed.data.refresh_token);
    if (!presented) throw invalidGrant('refresh token is invalid');
    const { family } = presented;
    // RFC 6749 §6: the refresh token was issued to the authenticated client.
    if (family.clientId !== client.clientId) throw invalidGrant('refresh token was issued to another client');
    if (family.revokedAt !== null) throw invalidGrant('refresh token has been revoked');
    if (presented.usedAt !== null) {
      await this.refreshTokens.revokeFamily(family.id, 'refresh token reused');
      throw invalidGrant('refresh token has already been used');
    }
    if (this.refreshTokens.isExpired(presented)) throw invalidGrant('refresh token has expired');

    // RFC 6749 §6: a narrower scope may be asked for; anything not originally granted is refused.
    const requested = parseScope(parsed.data.scope);
    const widened = requested.filter((scope) => !family.scopes.includes(scope));
    if (widened.length > 0) throw new ContractError('invalid_scope', `scope exceeds the original grant: ${widened.join(' ')}`);
    const scopes = requested.length > 0 ? requested : family.scopes;

    if (!(await this.refreshTokens.spend(presented))) {
      // A concurrent use spent it between our read and now: same as a reuse.
      await this.refreshTokens.revokeFamily(family.id, 'refresh token reused');
      throw invalidGrant('refresh token has already been used');
    }
    const signed = await this.tokens.sign({ tenant, client, userId: family.userId, scopes, authTime: family.authTime, amr: family.amr, acr: family.acr, sessionId: family.sessionId });
    const { idleSeconds } = refreshLifetimes(client, this.refreshDefaults);
    const next = await this.refreshTokens.issue(family.id, family.absoluteExpiresAt, idleSeconds, { jti: signed.jti, expiresAt: signed.expiresAt });
    // A reuse may have revoked the family while we issued: then what we issued is revoked, not returned.
    if (await this.refreshTokens.isFamilyRevoked(family.id)) {
      await this.revoker.revokeAccessToken(tenant.id, signed.jti, client.clientId, signed.expiresAt);
      throw invalidGrant('refresh token has been revoked');
    }
    return { ...signed.response, refresh_token: next };
  }
}
