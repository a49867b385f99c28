import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  BeginAuthorization,
  RotateSigningKey,
  CheckConsent,
  type ClientAuthentication,
  CompleteAuthorization,
  GetInteraction,
  GetJwks,
  IssueToken,
  type ReplyOf,
  RevokeConsent,
  RevokeToken,
  VerifyAccessToken,
} from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster, type TestDatabase } from '@latchkey/testing';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { TokenModule } from './token.module.js';

const WEB_REDIRECT = 'https://web.example.test/callback';
const APP_REDIRECT = 'http://127.0.0.1:8765/callback';
const client = (tenantExtras = '') => `
      - clientId: web
        displayName: Web app
        secret: web-secret
        tokenEndpointAuthMethods: [client_secret_basic, client_secret_post]
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${WEB_REDIRECT}, https://web.example.test/other]
        scopes: [openid, profile, offline_access, devices:read]
        ${tenantExtras}`;
/** The lifetimes client `short-lived` registers instead of the defaults (300 s, 30 days, 14 days). */
const SHORT_LIVED = { accessSeconds: 120, absoluteSeconds: 600, idleSeconds: 180 };
const tenants = parseTenants(`
tenants:
  - id: demo
    clients:${client()}
      - clientId: app
        tokenEndpointAuthMethods: [none]
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${APP_REDIRECT}]
        scopes: [openid, offline_access, devices:read, lock:unlock]
        idTokenSignedResponseAlg: RS256
      - clientId: no-refresh
        tokenEndpointAuthMethods: [none]
        grantTypes: [authorization_code]
        redirectUris: [${APP_REDIRECT}]
        scopes: [openid, offline_access]
      - clientId: short-lived
        secret: short-lived-secret
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${WEB_REDIRECT}]
        scopes: [openid, offline_access]
        accessTokenTtlSeconds: ${SHORT_LIVED.accessSeconds}
        refreshTokenAbsoluteLifetimeSeconds: ${SHORT_LIVED.absoluteSeconds}
        refreshTokenIdleLifetimeSeconds: ${SHORT_LIVED.idleSeconds}
  - id: other
    clients:${client()}
`);

const publicUrl = 'https://auth.example.test';
const issuer = (tenant: string) => `${publicUrl}/t/${tenant}`;
const web: ClientAuthentication = { method: 'client_secret_basic', clientId: 'web', clientSecret: 'web-secret' };
const app: ClientAuthentication = { method: 'none', clientId: 'app' };
const shortLived: ClientAuthentication = { method: 'client_secret_basic', clientId: 'short-lived', clientSecret: 'short-lived-secret' };

const b64url = (bytes: Buffer) => bytes.toString('base64url');
const newVerifier = () => b64url(randomBytes(32));
const challengeOf = (verifier: string) => b64url(createHash('sha256').update(verifier).digest());
const atHash = (token: string) => b64url(createHash('sha256').update(token).digest().subarray(0, 16));

describe('authorization code + PKCE, ID tokens and refresh tokens over NATS and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let database: TestDatabase;
  let bus: ContractClient;
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
  let offset = 0;
  const clock = () => Date.now() + offset;

  beforeAll(async () => {
    // Two replicas: a code or refresh token issued by one is redeemed by either.
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 2,
      module: ({ databaseUrl, messaging }) => TokenModule.forRoot({ tenants, publicUrl, keyEncryption: kek, database: { kind: 'url', url: databaseUrl, poolSize: 4 }, messaging, clock }),
    });
    ({ database, client: bus } = cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const now = () => Math.floor(clock() / 1000);
  // The subject of the latest approval: its auth_time must come back exactly in the ID tokens.
  let lastSubject: ReturnType<typeof adam>;
  let webAuthTime: number;
  const adam = () => ({ userId: 'user-adam', authTime: now() - 5, amr: ['pwd', 'otp'], acr: 'urn:latchkey:acr:mfa', sessionId: 'session-1' });

  interface Flow {
    tenant?: string;
    clientId?: string;
    redirectUri?: string | undefined;
    scope?: string;
    extra?: Record<string, string>;
    remember?: boolean;
  }

  const begin = (tenant: string, parameters: Record<string, string>) => bus.send(BeginAuthorization, { tenant, parameters });

  const authorizationParameters = (flow: Flow, verifier: string) => ({
    response_type: 'code',
    client_id: flow.clientId ?? 'web',
    ...(flow.redirectUri !== undefined ? { redirect_uri: flow.redirectUri } : {}),
    scope: flow.scope ?? 'openid offline_access devices:read',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    ...flow.extra,
  });

  /** What the gateway does: /authorize → login → consent → redirect, returning the code from `location`. */
  const authorize = async (flow: Flow = {}) => {
    const tenant = flow.tenant ?? 'demo';
    const verifier = newVerifier();
    const redirectUri = 'redirectUri' in flow ? flow.redirectUri : flow.clientId === 'app' || flow.clientId === 'no-refresh' ? APP_REDIRECT : WEB_REDIRECT;
    const started = await begin(tenant, authorizationParameters({ ...flow, redirectUri }, verifier));
    if (started.outcome !== 'interaction') throw new Error(`expected an interaction, got ${started.location}`);
    const { location } = await bus.send(CompleteAuthorization, { tenant, interactionId: started.interactionId, decision: 'approve', subject: (lastSubject = adam()), remember: flow.remember ?? false });
    const url = new URL(location);
    return { code: url.searchParams.get('code')!, verifier, location, url, interaction: started, redirectUri };
  };

  const redeem = (tenant: string, auth: ClientAuthentication, parameters: Record<string, string>) => bus.send(IssueToken, { tenant, grantType: 'authorization_code', client: auth, parameters });
  const refresh = (tenant: string, auth: ClientAuthentication, refreshToken: string, scope?: string) =>
    bus.send(IssueToken, { tenant, grantType: 'refresh_token', client: auth, parameters: { refresh_token: refreshToken, ...(scope ? { scope } : {}) } });
  const active = async (token: string, tenant = 'demo') => (await bus.send(VerifyAccessToken, { tenant, token })).active;
  const jwks = async (tenant = 'demo') => createLocalJWKSet(await bus.send(GetJwks, { tenant }));

  let webTokens: ReplyOf<typeof IssueToken>;

  it('runs begin → approve → code → tokens for a confidential client, with an ES256 ID token per OIDC Core', async () => {
    const flow = await authorize({ extra: { max_age: '600', acr_values: 'urn:latchkey:acr:mfa', login_hint: 'adam', prompt: 'consent' } });
    expect(flow.interaction).toMatchObject({
      outcome: 'interaction',
      clientId: 'web',
      clientName: 'Web app',
      scopes: ['openid', 'offline_access', 'devices:read'],
      prompt: ['consent'],
      maxAge: 600,
      acrValues: ['urn:latchkey:acr:mfa'],
      loginHint: 'adam',
      redirectUri: WEB_REDIRECT,
    });
    expect(`${flow.url.origin}${flow.url.pathname}`).toBe(WEB_REDIRECT);
    expect(flow.url.searchParams.get('state')).toBe('state-123');
    expect(flow.url.searchParams.get('iss')).toBe(issuer('demo'));
    expect(flow.code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    webTokens = await redeem('demo', web, { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT });
    expect(webTokens).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'openid offline_access devices:read' });
    expect(webTokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const keys = await jwks();
    const { payload: access } = await jwtVerify(webTokens.access_token, keys, { issuer: issuer('demo'), typ: 'at+jwt' });
    expect(access).toMatchObject({ sub: 'user-adam', client_id: 'web', scope: 'openid offline_access devices:read', tenant: 'demo' });

    const { payload: id, protectedHeader } = await jwtVerify(webTokens.id_token!, keys, { issuer: issuer('demo'), audience: 'web', currentDate: new Date(clock()) });
    expect(protectedHeader.alg).toBe('ES256');
    expect(id).toMatchObject({ sub: 'user-adam', aud: 'web', nonce: 'nonce-456', auth_time: lastSubject.authTime, amr: ['pwd', 'otp'], acr: 'urn:latchkey:acr:mfa', sid: 'session-1' });
    webAuthTime = lastSubject.authTime;
    expect(id.at_hash).toBe(atHash(webTokens.access_token));
    expect(id.exp! - id.iat!).toBe(300);

    await expect(bus.send(VerifyAccessToken, { tenant: 'demo', token: webTokens.access_token })).resolves.toMatchObject({ active: true, claims: { sub: 'user-adam', client_id: 'web' } });
  });

  it('signs a public client\'s ID token with RS256 when it registered so, and publishes both keys in the JWKS', async () => {
    const flow = await authorize({ clientId: 'app', scope: 'openid offline_access lock:unlock' });
    const tokens = await redeem('demo', app, { code: flow.code, code_verifier: flow.verifier, redirect_uri: APP_REDIRECT });
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256');
    const { protectedHeader, payload } = await jwtVerify(tokens.id_token!, await jwks(), { issuer: issuer('demo'), audience: 'app', algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.at_hash).toBe(atHash(tokens.access_token));
    const published = (await bus.send(GetJwks, { tenant: 'demo' })).keys;
    expect(published.map((key) => `${key.kty}/${key.alg}`).sort()).toEqual(['EC/ES256', 'RSA/RS256']);
    expect((await bus.send(GetJwks, { tenant: 'other' })).keys.map((key) => key.alg)).toEqual(['ES256']);
  });

  it('rotates the refresh token on every use, narrows scope on request and never widens it', async () => {
    const first = webTokens.refresh_token!;
    const second = await refresh('demo', web, first);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first);
    expect(second.scope).toBe('openid offline_access devices:read');
    const { payload: id } = await jwtVerify(second.id_token!, await jwks(), { issuer: issuer('demo'), audience: 'web' });
    // A refreshed ID token still says when the user authenticated, not when it was refreshed.
    expect(id).toMatchObject({ sub: 'user-adam', auth_time: webAuthTime, amr: ['pwd', 'otp'], at_hash: atHash(second.access_token) });
    expect(id.nonce).toBeUndefined();

    await expect(refresh('demo', web, second.refresh_token!, 'openid profile')).rejects.toMatchObject({ code: 'invalid_scope' });
    const narrowed = await refresh('demo', web, second.refresh_token!, 'devices:read');
    expect(narrowed).toMatchObject({ scope: 'devices:read' });
    expect(narrowed.id_token).toBeUndefined();
    // The refresh token keeps the family's scope (RFC 6749 §6): widening back to the original is fine.
    const third = await refresh('demo', web, narrowed.refresh_token!);
    expect(third.scope).toBe('openid offline_access devices:read');
    webTokens = { ...third };
  });

  it('case=should revoke the whole family when a spent refresh token is presented again', async () => {
    const family = await redeem('demo', web, await authorize().then((flow) => ({ code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT })));
    const rotated = await refresh('demo', web, family.refresh_token!);
    await expect(refresh('demo', web, family.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token has already been used' });
    await expect(refresh('demo', web, rotated.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token has been revoked' });
    expect(await active(family.access_token)).toBe(false);
    expect(await active(rotated.access_token)).toBe(false);
    // Other families are untouched.
    expect(await active(webTokens.access_token)).toBe(true);
  });

  it('case=should refuse a replayed code with invalid_grant and revoke everything it issued', async () => {
    const flow = await authorize();
    const parameters = { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT };
    const tokens = await redeem('demo', web, parameters);
    expect(await active(tokens.access_token)).toBe(true);
    await expect(redeem('demo', web, parameters)).rejects.toMatchObject({ code: 'invalid_grant', message: 'authorization code has already been used' });
    expect(await active(tokens.access_token)).toBe(false);
    await expect(refresh('demo', web, tokens.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('case=should let exactly one of two concurrent redemptions of a code succeed, and revoke it', async () => {
    const flow = await authorize();
    const parameters = { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT };
    const results = await Promise.allSettled([redeem('demo', web, parameters), redeem('demo', web, parameters), redeem('demo', web, parameters)]);
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(losers.length).toBeGreaterThanOrEqual(2);
    for (const loser of losers) expect((loser as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_grant' });
    for (const winner of winners) expect(await active((winner as PromiseFulfilledResult<ReplyOf<typeof IssueToken>>).value.access_token)).toBe(false);
  });

  it.each([
    ['code_challenge is missing', { code_challenge: undefined }, 'invalid_request', 'code_challenge is required (PKCE, S256)'],
    ['code_challenge_method is plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256'],
    ['code_challenge_method is missing', { code_challenge_method: undefined }, 'invalid_request', 'code_challenge_method must be S256'],
    ['response_type is token', { response_type: 'token' }, 'unsupported_response_type', 'only response_type=code is supported'],
    ['a scope is not allowed', { scope: 'openid admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
    ['prompt=none is combined', { prompt: 'none consent' }, 'invalid_request', 'prompt=none cannot be combined with other values'],
  ] as const)('case=should redirect an error to the client with state and iss because %s', async (_case, overrides, expectedError, description) => {
    const parameters = Object.fromEntries(
      Object.entries({ ...authorizationParameters({ redirectUri: WEB_REDIRECT }, newVerifier()), ...overrides }).filter(([, value]) => value !== undefined),
    ) as Record<string, string>;
    const reply = await begin('demo', parameters);
    expect(reply.outcome).toBe('redirect');
    const url = new URL((reply as { location: string }).location);
    expect(`${url.origin}${url.pathname}`).toBe(WEB_REDIRECT);
    expect(Object.fromEntries(url.searchParams)).toEqual({ error: expectedError, error_description: description, state: 'state-123', iss: issuer('demo') });
  });

  it.each([
    ['the client is unknown', { client_id: 'ghost' }, 'invalid_client'],
    ['client_id is missing', { client_id: undefined }, 'invalid_request'],
    ['the redirect URI is a prefix of a registered one', { redirect_uri: 'https://web.example.test/call' }, 'invalid_request'],
    ['the redirect URI has an extra path', { redirect_uri: `${WEB_REDIRECT}/x` }, 'invalid_request'],
    ['the redirect URI has another port', { redirect_uri: 'https://web.example.test:444/callback' }, 'invalid_request'],
    ['the redirect URI has a fragment', { redirect_uri: `${WEB_REDIRECT}#x` }, 'invalid_request'],
    ['the redirect URI is missing and several are registered', { redirect_uri: undefined }, 'invalid_request'],
  ])('case=should throw (never redirect) because %s', async (_case, overrides, code) => {
    const parameters = Object.fromEntries(
      Object.entries({ ...authorizationParameters({ redirectUri: WEB_REDIRECT }, newVerifier()), response_type: 'token', ...overrides }).filter(([, value]) => value !== undefined),
    ) as Record<string, string>;
    await expect(begin('demo', parameters)).rejects.toMatchObject({ code });
  });

  it('case=should refuse a wrong or missing PKCE verifier at the token endpoint', async () => {
    const flow = await authorize();
    await expect(redeem('demo', web, { code: flow.code, code_verifier: newVerifier(), redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_grant', message: 'PKCE verification failed' });
    await expect(redeem('demo', web, { code: flow.code, code_verifier: challengeOf(flow.verifier), redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_grant', message: 'PKCE verification failed' });
    await expect(redeem('demo', web, { code: flow.code, redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_request', message: 'code_verifier is required' });
    // Failed attempts do not consume the code.
    await expect(redeem('demo', web, { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT })).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('case=should refuse a code at another redirect URI, for another client, or after it expired', async () => {
    const flow = await authorize();
    const good = { code: flow.code, code_verifier: flow.verifier };
    await expect(redeem('demo', web, { ...good, redirect_uri: 'https://web.example.test/other' })).rejects.toMatchObject({ code: 'invalid_grant', message: 'redirect_uri does not match the authorization request' });
    await expect(redeem('demo', web, good)).rejects.toMatchObject({ code: 'invalid_grant', message: 'redirect_uri does not match the authorization request' });
    await expect(redeem('demo', app, { ...good, redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_grant', message: 'authorization code was issued to another client' });
    await expect(redeem('demo', { ...web, clientSecret: 'wrong' } as ClientAuthentication, { ...good, redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(redeem('demo', { method: 'none', clientId: 'web' }, { ...good, redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_client' });
    offset = 61_000;
    try {
      await expect(redeem('demo', web, { ...good, redirect_uri: WEB_REDIRECT })).rejects.toMatchObject({ code: 'invalid_grant', message: 'authorization code has expired' });
    } finally {
      offset = 0;
    }
  });

  it('accepts a token request without redirect_uri when the authorization request had none (single registered URI)', async () => {
    const flow = await authorize({ clientId: 'app', redirectUri: undefined, scope: 'openid' });
    const tokens = await redeem('demo', app, { code: flow.code, code_verifier: flow.verifier });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeDefined();
  });

  it('issues a refresh token only for offline_access and a client allowed to refresh', async () => {
    const flow = await authorize({ clientId: 'no-refresh', scope: 'openid offline_access' });
    const tokens = await redeem('demo', { method: 'none', clientId: 'no-refresh' }, { code: flow.code, code_verifier: flow.verifier, redirect_uri: APP_REDIRECT });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('answers deny with access_denied and the state at the redirect URI; an interaction is single use', async () => {
    const started = await begin('demo', authorizationParameters({ redirectUri: WEB_REDIRECT }, newVerifier()));
    if (started.outcome !== 'interaction') throw new Error('expected an interaction');
    await expect(bus.send(GetInteraction, { tenant: 'demo', interactionId: started.interactionId })).resolves.toMatchObject({ clientId: 'web', scopes: started.scopes });
    await expect(bus.send(GetInteraction, { tenant: 'other', interactionId: started.interactionId })).rejects.toMatchObject({ code: 'not_found' });
    const { location } = await bus.send(CompleteAuthorization, { tenant: 'demo', interactionId: started.interactionId, decision: 'deny' });
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`).toBe(WEB_REDIRECT);
    expect(Object.fromEntries(url.searchParams)).toEqual({ error: 'access_denied', error_description: 'the resource owner denied the request', state: 'state-123', iss: issuer('demo') });
    await expect(bus.send(CompleteAuthorization, { tenant: 'demo', interactionId: started.interactionId, decision: 'approve', subject: adam() })).rejects.toMatchObject({ code: 'not_found' });
    await expect(bus.send(GetInteraction, { tenant: 'demo', interactionId: started.interactionId })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('ends prompt=none without a session with login_required', async () => {
    const started = await begin('demo', authorizationParameters({ redirectUri: WEB_REDIRECT, extra: { prompt: 'none' } }, newVerifier()));
    if (started.outcome !== 'interaction') throw new Error('expected an interaction');
    expect(started.prompt).toEqual(['none']);
    const { location } = await bus.send(CompleteAuthorization, { tenant: 'demo', interactionId: started.interactionId, decision: 'deny', error: 'login_required' });
    expect(new URL(location).searchParams.get('error')).toBe('login_required');
  });

  it('case=should refuse an approval whose authentication is older than max_age, and keep the interaction', async () => {
    const started = await begin('demo', authorizationParameters({ redirectUri: WEB_REDIRECT, extra: { max_age: '60' } }, newVerifier()));
    if (started.outcome !== 'interaction') throw new Error('expected an interaction');
    const stale = { ...adam(), authTime: now() - 120 };
    await expect(bus.send(CompleteAuthorization, { tenant: 'demo', interactionId: started.interactionId, decision: 'approve', subject: stale })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(bus.send(CompleteAuthorization, { tenant: 'demo', interactionId: started.interactionId, decision: 'approve', subject: adam() })).resolves.toMatchObject({
      location: expect.stringContaining('code='),
    });
  });

  it('remembers consent when asked, and revoking it also revokes the refresh tokens it allowed', async () => {
    const query = { tenant: 'demo', clientId: 'app', userId: 'user-adam', scopes: ['openid', 'devices:read'] };
    await expect(bus.send(CheckConsent, query)).resolves.toEqual({ granted: false, missing: ['openid', 'devices:read'] });
    const flow = await authorize({ clientId: 'app', scope: 'openid offline_access devices:read', remember: true });
    const tokens = await redeem('demo', app, { code: flow.code, code_verifier: flow.verifier, redirect_uri: APP_REDIRECT });
    await expect(bus.send(CheckConsent, query)).resolves.toEqual({ granted: true, missing: [] });
    await expect(bus.send(CheckConsent, { ...query, scopes: ['openid', 'lock:unlock'] })).resolves.toEqual({ granted: false, missing: ['lock:unlock'] });

    await expect(bus.send(RevokeConsent, { tenant: 'demo', clientId: 'app', userId: 'user-adam' })).resolves.toMatchObject({ revoked: true });
    await expect(bus.send(CheckConsent, query)).resolves.toEqual({ granted: false, missing: ['openid', 'devices:read'] });
    await expect(refresh('demo', app, tokens.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await active(tokens.access_token)).toBe(false);
  });

  it('honours revocation in verify-access-token', async () => {
    const flow = await authorize();
    const tokens = await redeem('demo', web, { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT });
    expect(await active(tokens.access_token)).toBe(true);
    await bus.send(RevokeToken, { tenant: 'demo', client: web, token: tokens.access_token });
    expect(await active(tokens.access_token)).toBe(false);
    await expect(bus.send(VerifyAccessToken, { tenant: 'demo', token: 'garbage' })).resolves.toEqual({ active: false });
  });

  it('case=should treat a code or refresh token of tenant demo as invalid_grant at tenant other', async () => {
    const flow = await authorize();
    const parameters = { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT };
    await expect(redeem('other', web, parameters)).rejects.toMatchObject({ code: 'invalid_grant', message: 'authorization code is invalid' });
    const tokens = await redeem('demo', web, parameters);
    await expect(refresh('other', web, tokens.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token is invalid' });
    expect(await active(tokens.access_token, 'other')).toBe(false);
    // Nothing at tenant other touched tenant demo's tokens.
    await expect(refresh('demo', web, tokens.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('stores codes, refresh tokens and interaction ids only as SHA-256 digests', async () => {
    const flow = await authorize();
    const tokens = await redeem('demo', web, { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT });
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      const dump = JSON.stringify([
        (await pool.query('SELECT * FROM token.authorization_code')).rows,
        (await pool.query('SELECT * FROM token.refresh_token')).rows,
        (await pool.query('SELECT * FROM token.authorization_interaction')).rows,
      ]);
      expect(dump).not.toContain(flow.code);
      expect(dump).not.toContain(tokens.refresh_token!);
      expect(dump).not.toContain(flow.interaction.interactionId);
      expect(dump).toContain(createHash('sha256').update(flow.code).digest('hex'));
    } finally {
      await pool.end();
    }
  });

  describe('a client\'s own token lifetimes (accessTokenTtlSeconds, refresh-token absolute and idle lifetimes)', () => {
    const tokensOf = async (auth: ClientAuthentication) => {
      const flow = await authorize({ clientId: auth.clientId, redirectUri: WEB_REDIRECT, scope: 'openid offline_access' });
      return redeem('demo', auth, { code: flow.code, code_verifier: flow.verifier, redirect_uri: WEB_REDIRECT });
    };
    /** Runs `step` with the clock moved `seconds` ahead, then puts it back. */
    const at = async (seconds: number, step: () => Promise<void>) => {
      offset = seconds * 1000;
      try {
        await step();
      } finally {
        offset = 0;
      }
    };

    it('gives the client\'s access and ID tokens its lifetime, and the access token ends with it', async () => {
      const tokens = await tokensOf(shortLived);
      expect(tokens.expires_in).toBe(SHORT_LIVED.accessSeconds);
      for (const jwt of [tokens.access_token, tokens.id_token!]) {
        const { iat, exp } = decodeJwt(jwt);
        expect(exp! - iat!).toBe(SHORT_LIVED.accessSeconds);
      }
      await at(SHORT_LIVED.accessSeconds - 10, async () => expect(await active(tokens.access_token)).toBe(true));
      await at(SHORT_LIVED.accessSeconds + 1, async () => expect(await active(tokens.access_token)).toBe(false));
    });

    it('case=should fail with invalid_grant once a refresh token was idle longer than the client\'s idle lifetime', async () => {
      const tokens = await tokensOf(shortLived);
      const webFamily = await tokensOf(web);
      let second = '';
      // Used before the idle lifetime is over: rotated, and the new token's idle lifetime starts again.
      await at(SHORT_LIVED.idleSeconds - 10, async () => {
        second = (await refresh('demo', shortLived, tokens.refresh_token!)).refresh_token!;
      });
      await at(2 * SHORT_LIVED.idleSeconds - 10 + 1, async () => {
        await expect(refresh('demo', shortLived, second)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token has expired' });
        // A client without its own idle lifetime has the default (14 days).
        await expect(refresh('demo', web, webFamily.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' });
      });
    });

    it('case=should fail with invalid_grant once the family is older than the client\'s absolute lifetime, however recently used', async () => {
      const tokens = await tokensOf(shortLived);
      let current = tokens.refresh_token!;
      // Each use well within the idle lifetime of the one before.
      for (const seconds of [170, 340, 510]) {
        await at(seconds, async () => {
          current = (await refresh('demo', shortLived, current)).refresh_token!;
        });
      }
      // 91 s after the last use, well within the idle lifetime: but the family has reached its absolute lifetime.
      await at(SHORT_LIVED.absoluteSeconds + 1, async () => {
        await expect(refresh('demo', shortLived, current)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token has expired' });
      });
    });
  });

  // Last: it moves the clock past a key rotation.
  it('rotates the RS256 key track together with the ES256 one, without breaking ID tokens already issued', async () => {
    const before = await authorize({ clientId: 'app', scope: 'openid' });
    const oldTokens = await redeem('demo', app, { code: before.code, code_verifier: before.verifier, redirect_uri: APP_REDIRECT });
    const oldRsaKid = decodeProtectedHeader(oldTokens.id_token!).kid;
    const { activatesAt } = await bus.send(RotateSigningKey, { tenant: 'demo', reason: 'integration test' });
    const published = (await bus.send(GetJwks, { tenant: 'demo' })).keys;
    expect(published.filter((key) => key.alg === 'RS256')).toHaveLength(2);
    expect(published.filter((key) => key.alg === 'ES256')).toHaveLength(2);
    try {
      offset = Date.parse(activatesAt) - Date.now() + 1000;
      const after = await authorize({ clientId: 'app', scope: 'openid' });
      const newTokens = await redeem('demo', app, { code: after.code, code_verifier: after.verifier, redirect_uri: APP_REDIRECT });
      const newRsaKid = decodeProtectedHeader(newTokens.id_token!).kid;
      expect(newRsaKid).not.toBe(oldRsaKid);
      expect(published.map((key) => key.kid)).toContain(newRsaKid);
      const keys = await jwks();
      await expect(jwtVerify(oldTokens.id_token!, keys, { issuer: issuer('demo'), audience: 'app', currentDate: new Date(clock() - 2000) })).resolves.toBeDefined();
      await expect(jwtVerify(newTokens.id_token!, keys, { issuer: issuer('demo'), audience: 'app', algorithms: ['RS256'], currentDate: new Date(clock()) })).resolves.toBeDefined();
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      const { rows } = await pool.query<{ alg: string; status: string }>(`SELECT alg, status FROM token.signing_key WHERE tenant = 'demo' ORDER BY alg, created_at`);
      await pool.end();
      expect(rows).toEqual([
        { alg: 'ES256', status: 'retired' },
        { alg: 'ES256', status: 'active' },
        { alg: 'RS256', status: 'retired' },
        { alg: 'RS256', status: 'active' },
      ]);
    } finally {
      offset = 0;
    }
  });
});
