// Remembered consents over NATS and PostgreSQL: listing them for the account page (list-consents)
// and withdrawing them (revoke-consent), always for one user of one tenant and nobody else.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { BeginAuthorization, CheckConsent, type ClientAuthentication, CompleteAuthorization, IssueToken, ListConsents, RevokeConsent } from '@latchkey/contracts';
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
        scopes: [openid]`;
const tenants = parseTenants(`
tenants:
  - id: demo
    clients:${clients}
  - id: other
    clients:${clients}
`);
const web: ClientAuthentication = { method: 'client_secret_basic', clientId: 'web', clientSecret: 'web-secret' };

describe('consents: listed and withdrawn per user and tenant', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;

  beforeAll(async () => {
    const keyEncryption = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 1,
      module: ({ databaseUrl, messaging }) => TokenModule.forRoot({ tenants, publicUrl: 'https://auth.example.test', keyEncryption, database: { kind: 'url', url: databaseUrl, poolSize: 2 }, messaging }),
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
  const refresh = (tenant: string, refreshToken: string) => bus.send(IssueToken, { tenant, grantType: 'refresh_token', client: web, parameters: { refresh_token: refreshToken } });

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
      { clientId: 'nameless', clientName: 'nameless', scopes: ['openid'], grantedAt: expect.any(String), updatedAt: expect.any(String) },
      // Consent grows: the second request's profile is added to the first's scopes.
      { clientId: 'web', clientName: 'Web app', scopes: ['openid', 'offline_access', 'profile'], grantedAt: expect.any(String), updatedAt: expect.any(String) },
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

  it('case=should refuse a malformed request and an unknown tenant', async () => {
    await expect(bus.send(ListConsents, { tenant: 'Not A Tenant', userId: 'user-adam' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(bus.send(ListConsents, { tenant: 'demo', userId: '' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(list('nowhere', 'user-adam')).rejects.toMatchObject({ code: 'tenant_not_found' });
  });
});
