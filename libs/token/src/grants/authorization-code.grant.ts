import { AuthorizationCodeParameters, ContractError, type TokenResponse } from '@latchkey/contracts';
import type { AuthorizationCode } from '../generated/prisma/client.js';
import type { AuthorizationCodes } from '../authorization/authorization-codes.js';
import { verifierMatches } from '../authorization/pkce.js';
import type { AccessTokenRevoker, RefreshTokens } from '../tokens/refresh-tokens.js';
import { familyGrantOf, mayRefresh, refreshLifetimes, type RefreshLifetimesDefaults, type UserGrant, type UserTokens } from '../tokens/user-tokens.js';
import type { GrantHandler, GrantRequest } from './grant-handler.js';

const invalidGrant = (description: string) => new ContractError('invalid_grant', description);

/**
 * RFC 6749 §4.1.3 + RFC 7636 §4.6: a client redeems an authorization code. The client has already
 * authenticated (confidential clients with their secret, public ones with `none`); the code must be
 * live, unused, issued to this client for this redirect URI, and the PKCE verifier must match. A code
 * presented a second time is refused and everything its first redemption issued is revoked (§4.1.2).
 */
export class AuthorizationCodeGrant implements GrantHandler {
  readonly grantType = 'authorization_code';

  constructor(
    private readonly codes: AuthorizationCodes,
    private readonly tokens: UserTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly revoker: AccessTokenRevoker,
    private readonly refreshDefaults: RefreshLifetimesDefaults = {},
  ) {}

  async handle({ tenant, client, parameters }: GrantRequest): Promise<TokenResponse> {
    const parsed = AuthorizationCodeParameters.safeParse(parameters);
    if (!parsed.success) throw new ContractError('invalid_request', 'code is required');
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = parsed.data;

    const row = await this.codes.find(tenant.id, code);
    if (!row) throw invalidGrant('authorization code is invalid');
    if (row.consumedAt !== null) {
      await this.revokeRedemption(row);
      throw invalidGrant('authorization code has already been used');
    }
    if (this.codes.isExpired(row)) throw invalidGrant('authorization code has expired');
    // RFC 6749 §4.1.3: the code was issued to the authenticated client.
    if (row.clientId !== client.clientId) throw invalidGrant('authorization code was issued to another client');
    // RFC 6749 §4.1.3: redirect_uri is required, and identical, when the authorization request had it.
    if ((row.redirectUriSent || redirectUri !== undefined) && redirectUri !== row.redirectUri) {
      throw invalidGrant('redirect_uri does not match the authorization request');
    }
    // RFC 7636 §4.5/§4.6: the verifier is required and must hash to the stored S256 challenge.
    if (verifier === undefined) throw new ContractError('invalid_request', 'code_verifier is required');
    if (!verifierMatches(verifier, row.codeChallenge)) throw invalidGrant('PKCE verification failed');

    const grant: UserGrant = {
      tenant,
      client,
      userId: row.userId,
      scopes: row.scopes,
      authTime: row.authTime,
      amr: row.amr,
      acr: row.acr,
      sessionId: row.sessionId,
      ...(row.nonce !== null ? { nonce: row.nonce } : {}),
    };
    // Everything is issued before the code is consumed, so that the consuming UPDATE records what a
    // replay must revoke in the same statement that makes the code single use.
    const signed = await this.tokens.sign(grant);
    let refresh: { familyId: string; token: string } | null = null;
    if (mayRefresh(client, grant.scopes)) {
      const lifetimes = refreshLifetimes(client, this.refreshDefaults);
      const family = await this.refreshTokens.createFamily(familyGrantOf(grant), lifetimes);
      const familyId = family.id;
      const token = await this.refreshTokens.issue(familyId, family.absoluteExpiresAt, lifetimes.idleSeconds, { jti: signed.jti, expiresAt: signed.expiresAt });
      refresh = { familyId, token };
    }
    const redeemed = await this.codes.redeem(row, { accessTokenJti: signed.jti, accessTokenExpiresAt: signed.expiresAt, refreshFamilyId: refresh?.familyId ?? null });
    if (!redeemed) {
      // A concurrent redemption won: ours never leaves, theirs is revoked as a replay.
      if (refresh) await this.refreshTokens.revokeFamily(refresh.familyId, 'lost code redemption race');
      const winner = await this.codes.reload(row);
      if (winner) await this.revokeRedemption(winner);
      throw invalidGrant('authorization code has already been used');
    }
    return { ...signed.response, ...(refresh ? { refresh_token: refresh.token } : {}) };
  }

  /** RFC 6749 §4.1.2: revoke (when possible) all tokens previously issued based on the code. */
  private async revokeRedemption(row: AuthorizationCode): Promise<void> {
    if (row.accessTokenJti && row.accessTokenExpiresAt) await this.revoker.revokeAccessToken(row.tenant, row.accessTokenJti, row.clientId, row.accessTokenExpiresAt);
    if (row.refreshFamilyId) await this.refreshTokens.revokeFamily(row.refreshFamilyId, 'authorization code replayed');
  }
}
