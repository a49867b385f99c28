import { ContractError, DEVICE_CODE_GRANT_TYPE, DeviceCodeParameters, type TokenResponse } from '@latchkey/contracts';
import type { DeviceCodeRow, DeviceCodes } from '../device/device-codes.js';
import type { AccessTokenRevoker, RefreshTokens } from '../tokens/refresh-tokens.js';
import { familyGrantOf, mayRefresh, refreshLifetimes, type RefreshLifetimesDefaults, type UserGrant, type UserTokens } from '../tokens/user-tokens.js';
import type { GrantHandler, GrantRequest } from './grant-handler.js';

const invalidGrant = (description: string) => new ContractError('invalid_grant', description);

/**
 * RFC 8628 §3.4–§3.5: a device polls with its device code. Until the user decides: `authorization_pending`,
 * or `slow_down` (and 5 s more interval) when it polls faster than the interval; `access_denied` once
 * denied, `expired_token` once expired. Once approved it gets the user's tokens — exactly once: the
 * consuming UPDATE records what was issued, and a later poll with the same code gets `invalid_grant`
 * and revokes it (as a replayed authorization code does, RFC 6749 §4.1.2; docs/adr/0014).
 */
export class DeviceCodeGrant implements GrantHandler {
  readonly grantType = DEVICE_CODE_GRANT_TYPE;

  constructor(
    private readonly codes: DeviceCodes,
    private readonly tokens: UserTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly revoker: AccessTokenRevoker,
    private readonly refreshDefaults: RefreshLifetimesDefaults = {},
  ) {}

  async handle({ tenant, client, parameters }: GrantRequest): Promise<TokenResponse> {
    const parsed = DeviceCodeParameters.safeParse(parameters);
    if (!parsed.success) throw new ContractError('invalid_request', 'device_code is required');

    const row = await this.codes.findByDeviceCode(tenant.id, parsed.data.device_code);
    if (!row) throw invalidGrant('device code is invalid');
    // RFC 8628 §3.4: the device code was issued to the authenticated client — and to the same kind of
    // client (a device of the registry, or a registered client with that id; docs/adr/0017).
    if (row.clientId !== client.clientId || (row.deviceType !== null) !== (client.device !== undefined)) throw invalidGrant('device code was issued to another client');
    if (row.status === 'consumed') {
      await this.revokeIssued(row);
      throw invalidGrant('device code has already been used');
    }
    // RFC 8628 §3.5, in this order: expiry, denial, approval; pending polls are paced.
    if (this.codes.isExpired(row)) throw new ContractError('expired_token', 'the device code has expired');
    if (row.status === 'denied') throw new ContractError('access_denied', 'the authorization request was denied');
    if (row.status === 'approved') return this.issue(row, { tenant, client, parameters });
    if (!(await this.codes.recordPoll(row))) throw new ContractError('slow_down', 'polling too fast: wait 5 seconds more between requests');
    throw new ContractError('authorization_pending', 'the user has not decided yet');
  }

  private async issue(row: DeviceCodeRow, { tenant, client }: GrantRequest): Promise<TokenResponse> {
    const grant: UserGrant = {
      tenant,
      client,
      userId: row.userId!,
      scopes: row.scopes,
      authTime: row.authTime!,
      amr: row.amr,
      acr: row.acr!,
      sessionId: row.sessionId,
    };
    // As for authorization codes (docs/adr/0012): sign first, then consume and record in one statement.
    const signed = await this.tokens.sign(grant);
    let refresh: { familyId: string; token: string } | null = null;
    if (mayRefresh(client, grant.scopes)) {
      const lifetimes = refreshLifetimes(client, this.refreshDefaults);
      const family = await this.refreshTokens.createFamily(familyGrantOf(grant), lifetimes);
      const token = await this.refreshTokens.issue(family.id, family.absoluteExpiresAt, lifetimes.idleSeconds, { jti: signed.jti, expiresAt: signed.expiresAt });
      refresh = { familyId: family.id, token };
    }
    const consumed = await this.codes.consume(row, { accessTokenJti: signed.jti, accessTokenExpiresAt: signed.expiresAt, refreshFamilyId: refresh?.familyId ?? null });
    if (!consumed) {
      // A concurrent poll won: ours never leaves, and the code counts as replayed.
      await this.revoker.revokeAccessToken(tenant.id, signed.jti, client.clientId, signed.expiresAt);
      if (refresh) await this.refreshTokens.revokeFamily(refresh.familyId, 'lost device code redemption race');
      const winner = await this.codes.reload(row);
      if (winner) await this.revokeIssued(winner);
      throw invalidGrant('device code has already been used');
    }
    return { ...signed.response, ...(refresh ? { refresh_token: refresh.token } : {}) };
  }

  private async revokeIssued(row: DeviceCodeRow): Promise<void> {
    if (row.accessTokenJti && row.accessTokenExpiresAt) await this.revoker.revokeAccessToken(row.tenant, row.accessTokenJti, row.clientId, row.accessTokenExpiresAt);
    if (row.refreshFamilyId) await this.refreshTokens.revokeFamily(row.refreshFamilyId, 'device code replayed');
  }
}
