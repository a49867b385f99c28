// The apps with access over NATS and PostgreSQL: listing them for the account page (list-consents:
// remembered consents and live refresh-token families, such as a TV paired through the device grant,
// which remembers no consent) and withdrawing them (revoke-consent), always for one user of one tenant
// and nobody else.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  BeginAuthorization,
  CheckConsent,
  type ClientAuthentication,
  CompleteAuthorization,
  DecideDeviceCode,
  DEVICE_CODE_GRANT_TYPE,
  DeviceAuthorization,
  IssueToken,
  ListConsents,
  type ReplyOf,
  RevokeConsent,
  VerifyAccessToken,
} from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { TokenModule } from '../token.module.js';

const REDIRECT = 'https://web.example.test/callback';
const clients = `
      - clientId: web
        displayName: Web app
        secret: web-secret
        tokenEndpointAuthMethods: [client_secret_basic]
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${REDIRECT}]
        scopes: [openid, profile, offline_access]
      - clientId: nameless
        tokenEndpointAuthMethods: [none]
        grantTypes: [authorization_code]
        redirectUris: [${REDIRECT}]
        scopes: [openid]
      - clientId: tv
        displayName: Living-room TV
        tokenEndpointAuthMethods: [none]
        grantTypes: [${DEVICE_CODE_GRANT_TYPE}, refresh_token]
        scopes: [openid, devices:read, offline_access]`;
const tenants = parseTenants(`
tenants:
  - id: demo
    clients:${clients}
  - id: other
    clients:${clients}
`);
const web: ClientAuthentication = { method: 'client_secret_basic', clientId: 'web', clientSecret: 'web-secret' };
const tv: ClientAuthentication = { method: 'none', clientId: 'tv' };
const DAY_MS = 24 * 3600_000;

describe('consents: listed and withdrawn per user and tenant', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  // The service's clock, moved forward to let refresh tokens expire (the defaults: idle 14 days, absolute 30).
  let offset = 0;
  const clock = () => Date.now() + offset;

  beforeAll(async () => {
    const keyEncryption = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 1,
      module: ({ databaseUrl, messaging }) => TokenModule.forRoot({ tenants, publicUrl: 'https://auth.example.test', keyEncryption, database: { kind: 'url', url: databaseUrl, poolSize: 2 }, messaging, clock }),
    });
    bus = cluster.client;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** What the gateway does when a person clicks Allow: the code, and with it the remembered consent. */
  const consent = async (tenant: string, clientId: string, userId: string, scope: string) => {
    const verifier = randomBytes(32).toString('base64url');
    const started = await bus.send(BeginAuthorization, {
      tenant,
      parameters: { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' },
    });
    if (started.outcome !== 'interaction') throw new Error(`expected an interaction, got ${started.location}`);
    const subject = { userId, authTime: Math.floor(Date.now() / 1000), amr: ['pwd'], acr: 'urn:latchkey:loa:1', sessionId: `sid-${userId}` };
    const { location } = await bus.send(CompleteAuthorization, { tenant, interactionId: started.interactionId, decision: 'approve', subject, remember: true });
    return { code: new URL(location).searchParams.get('code')!, verifier };
  };
  const list = (tenant: string, userId: string) => bus.send(ListConsents, { tenant, userId });
  const refresh = (tenant: string, refreshToken: string, client: ClientAuthentication = web) => bus.send(IssueToken, { tenant, grantType: 'refresh_token', client, parameters: { refresh_token: refreshToken } });
  /** What the gateway's /device pages do when a person signed in and clicked Allow: RFC 8628 §3.3, then the TV's poll. */
  const pair = async (tenant: string, userId: string, scope: string) => {
    const device = await bus.send(DeviceAuthorization, { tenant, client: tv, parameters: { scope } });
    const subject = { userId, authTime: Math.floor(clock() / 1000), amr: ['pwd'], acr: 'urn:latchkey:loa:1', sessionId: `sid-${userId}` };
    await bus.send(DecideDeviceCode, { tenant, userCode: device.user_code, decision: 'approve', subject });
    return bus.send(IssueToken, { tenant, grantType: DEVICE_CODE_GRANT_TYPE, client: tv, parameters: { device_code: device.device_code } });
  };

  let adamRefresh: string;
  let biancaRefresh: string;
  let otherTenantRefresh: string;

  it('lists nothing before any consent', async () => {
    await expect(list('demo', 'user-adam')).resolves.toEqual({ consents: [] });
  });

  it('lists the apps a user allowed, most recent first, with names, every allowed scope and when', async () => {
    const before = Date.now();
    const first = await consent('demo', 'web', 'user-adam', 'openid offline_access');
    adamRefresh = (await bus.send(IssueToken, { tenant: 'demo', grantType: 'authorization_code', client: web, parameters: { code: first.code, code_verifier: first.verifier, redirect_uri: REDIRECT } })).refresh_token!;
    await consent('demo', 'web', 'user-adam', 'openid profile');
    await consent('demo', 'nameless', 'user-adam', 'openid');
    const { consents } = await list('demo', 'user-adam');
    expect(consents).toEqual([
      // A client without a display name is named by its id.
      { clientId: 'nameless', clientName: 'nameless', scopes: ['openid'], grantedAt: expect.any(String), updatedAt: expect.any(String), rememberedConsent: true, offlineAccess: false },
      // Consent grows: the second request's profile is added to the first's scopes. The first code gave a refresh token.
      { clientId: 'web', clientName: 'Web app', scopes: ['openid', 'offline_access', 'profile'], grantedAt: expect.any(String), updatedAt: expect.any(String), rememberedConsent: true, offlineAccess: true },
    ]);
    const [, webConsent] = consents;
    expect(Date.parse(webConsent!.grantedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(webConsent!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(webConsent!.grantedAt));
  });

  it('case=should not show another user\'s or another tenant\'s consents', async () => {
    const bianca = await consent('demo', 'web', 'user-bianca', 'openid offline_access');
    biancaRefresh = (await bus.send(IssueToken, { tenant: 'demo', grantType: 'authorization_code', client: web, parameters: { code: bianca.code, code_verifier: bianca.verifier, redirect_uri: REDIRECT } })).refresh_token!;
    // The same user id and client id at tenant other: a different person of a different tenant.
    const other = await consent('other', 'web', 'user-adam', 'openid offline_access');
    otherTenantRefresh = (await bus.send(IssueToken, { tenant: 'other', grantType: 'authorization_code', client: web, parameters: { code: other.code, code_verifier: other.verifier, redirect_uri: REDIRECT } })).refresh_token!;

    expect((await list('demo', 'user-bianca')).consents.map((c) => [c.clientId, c.scopes])).toEqual([['web', ['openid', 'offline_access']]]);
    expect((await list('other', 'user-adam')).consents.map((c) => [c.clientId, c.scopes])).toEqual([['web', ['openid', 'offline_access']]]);
    expect((await list('demo', 'user-adam')).consents.map((c) => c.clientId)).toEqual(['nameless', 'web']);
    await expect(list('demo', 'user-nobody')).resolves.toEqual({ consents: [] });
  });

  it('case=should withdraw only the named user\'s consent at the named tenant, with that user\'s refresh tokens', async () => {
    await expect(bus.send(RevokeConsent, { tenant: 'demo', clientId: 'web', userId: 'user-adam' })).resolves.toEqual({ revoked: true, refreshFamiliesRevoked: 1 });
    expect((await list('demo', 'user-adam')).consents.map((c) => c.clientId)).toEqual(['nameless']);
    await expect(bus.send(CheckConsent, { tenant: 'demo', clientId: 'web', userId: 'user-adam', scopes: ['openid'] })).resolves.toEqual({ granted: false, missing: ['openid'] });
    await expect(refresh('demo', adamRefresh)).rejects.toMatchObject({ code: 'invalid_grant' });

    // Bianca's consent and tokens, and adam's at tenant other, are untouched.
    expect((await list('demo', 'user-bianca')).consents.map((c) => c.clientId)).toEqual(['web']);
    await expect(refresh('demo', biancaRefresh)).resolves.toMatchObject({ token_type: 'Bearer' });
    expect((await list('other', 'user-adam')).consents.map((c) => c.clientId)).toEqual(['web']);
    await expect(refresh('other', otherTenantRefresh)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  describe('apps paired through the device grant (RFC 8628), which remembers no consent', () => {
    let carlaTv: ReplyOf<typeof IssueToken>;
    let doraTv: ReplyOf<typeof IssueToken>;
    let otherTenantCarlaTv: ReplyOf<typeof IssueToken>;

    it('lists a TV paired with offline_access: its refresh tokens are access held for the person', async () => {
      const before = Date.now();
      carlaTv = await pair('demo', 'user-carla', 'openid devices:read offline_access');
      expect(carlaTv.refresh_token).toEqual(expect.any(String));
      const { consents } = await list('demo', 'user-carla');
      expect(consents).toEqual([
        { clientId: 'tv', clientName: 'Living-room TV', scopes: ['openid', 'devices:read', 'offline_access'], grantedAt: expect.any(String), updatedAt: expect.any(String), rememberedConsent: false, offlineAccess: true },
      ]);
      expect(Date.parse(consents[0]!.grantedAt)).toBeGreaterThanOrEqual(before - 1000);
      // Listing it does not make it a remembered consent.
      await expect(bus.send(CheckConsent, { tenant: 'demo', clientId: 'tv', userId: 'user-carla', scopes: ['openid'] })).resolves.toEqual({ granted: false, missing: ['openid'] });
    });

    it('lists one entry per app, with the scopes of all its live families, next to the apps the person consented to', async () => {
      // Paired a second time (another TV of the same app), with fewer scopes: still one entry.
      const second = await pair('demo', 'user-carla', 'openid offline_access');
      await refresh('demo', second.refresh_token!, tv);
      await consent('demo', 'nameless', 'user-carla', 'openid');
      const { consents } = await list('demo', 'user-carla');
      expect(consents.map((app) => [app.clientId, app.scopes, app.rememberedConsent, app.offlineAccess])).toEqual([
        ['nameless', ['openid'], true, false],
        ['tv', ['openid', 'devices:read', 'offline_access'], false, true],
      ]);
      const tvEntry = consents[1]!;
      expect(Date.parse(tvEntry.updatedAt)).toBeGreaterThan(Date.parse(tvEntry.grantedAt));
    });

    it('case=should not list a TV paired without offline_access: it holds no refresh token', async () => {
      const paired = await pair('demo', 'user-erin', 'openid devices:read');
      expect(paired.refresh_token).toBeUndefined();
      await expect(list('demo', 'user-erin')).resolves.toEqual({ consents: [] });
    });

    it('case=should withdraw the TV: every family of that user at that client is revoked, refresh answers invalid_grant', async () => {
      doraTv = await pair('demo', 'user-dora', 'openid offline_access');
      // The same user id and client id at tenant other: a different person of a different tenant.
      otherTenantCarlaTv = await pair('other', 'user-carla', 'openid offline_access');

      await expect(bus.send(RevokeConsent, { tenant: 'demo', clientId: 'tv', userId: 'user-carla' })).resolves.toEqual({ revoked: false, refreshFamiliesRevoked: 2 });
      await expect(refresh('demo', carlaTv.refresh_token!, tv)).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(bus.send(VerifyAccessToken, { tenant: 'demo', token: carlaTv.access_token })).resolves.toMatchObject({ active: false });
      expect((await list('demo', 'user-carla')).consents.map((app) => app.clientId)).toEqual(['nameless']);

      // Dora's TV, and carla's at tenant other, are untouched.
      expect((await list('demo', 'user-dora')).consents.map((app) => app.clientId)).toEqual(['tv']);
      await expect(refresh('demo', doraTv.refresh_token!, tv)).resolves.toMatchObject({ token_type: 'Bearer' });
      expect((await list('other', 'user-carla')).consents.map((app) => app.clientId)).toEqual(['tv']);
      await expect(refresh('other', otherTenantCarlaTv.refresh_token!, tv)).resolves.toMatchObject({ token_type: 'Bearer' });
    });

    it('case=should not list refresh tokens that can no longer refresh: idle past their lifetime, or past the absolute one', async () => {
      await pair('demo', 'user-frank', 'openid offline_access');
      expect((await list('demo', 'user-frank')).consents.map((app) => app.clientId)).toEqual(['tv']);
      try {
        offset = 15 * DAY_MS;
        await expect(list('demo', 'user-frank')).resolves.toEqual({ consents: [] });
        // A family kept alive by use is listed until its absolute lifetime ends.
        offset = 0;
        const kept = await pair('demo', 'user-frank', 'openid offline_access');
        offset = 10 * DAY_MS;
        const rotated = await refresh('demo', kept.refresh_token!, tv);
        offset = 20 * DAY_MS;
        await refresh('demo', rotated.refresh_token!, tv);
        expect((await list('demo', 'user-frank')).consents.map((app) => app.clientId)).toEqual(['tv']);
        offset = 31 * DAY_MS;
        await expect(list('demo', 'user-frank')).resolves.toEqual({ consents: [] });
      } finally {
        offset = 0;
      }
    });
  });

  it('case=should refuse a malformed request and an unknown tenant', async () => {
    await expect(bus.send(ListConsents, { tenant: 'Not A Tenant', userId: 'user-adam' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(bus.send(ListConsents, { tenant: 'demo', userId: '' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(list('nowhere', 'user-adam')).rejects.toMatchObject({ code: 'tenant_not_found' });
  });
});
