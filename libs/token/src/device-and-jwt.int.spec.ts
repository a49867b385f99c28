import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  type ClientAuthentication,
  DecideDeviceCode,
  DEVICE_CODE_GRANT_TYPE,
  DeviceAuthorization,
  GetJwks,
  IntrospectToken,
  IssueToken,
  LookupUserCode,
  type ReplyOf,
  type RequestOf,
  RevokeToken,
  VerifyAccessToken,
} from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import type { INestMicroservice } from '@nestjs/common';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { startStandInPolicy, StandInPolicyState } from './test/stand-in-policy.js';
import { TokenModule } from './token.module.js';

const publicUrl = 'https://auth.example.test';
const issuer = `${publicUrl}/t/demo`;
const tokenEndpoint = `${issuer}/oauth2/token`;
const tv: ClientAuthentication = { method: 'none', clientId: 'tv' };
const otherTv: ClientAuthentication = { method: 'none', clientId: 'other-tv' };
/** A confidential client of the device grant: the only kind that may introspect (RFC 7662 §2.1). */
const consoleClient: ClientAuthentication = { method: 'client_secret_basic', clientId: 'console', clientSecret: 'console-secret' };
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const MAX_LOOKUP_FAILURES = 3;

// The test's own key pairs: only their public halves are registered (no private key lives in the repo).
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const keyPairs: Record<'es' | 'rs' | 'ed' | 'stranger', KeyPair> = {} as never;
const algOf = { es: 'ES256', rs: 'RS256', ed: 'EdDSA', stranger: 'ES256' } as const;

async function tenantsWithKeys() {
  keyPairs.es = await generateKeyPair('ES256');
  keyPairs.rs = await generateKeyPair('RS256', { modulusLength: 2048 });
  keyPairs.ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  keyPairs.stranger = await generateKeyPair('ES256');
  const jwk = async (kid: 'es' | 'rs' | 'ed') => ({ ...(await exportJWK(keyPairs[kid].publicKey)), kid, use: 'sig' });
  const deviceClient = (clientId: string) => ({
    clientId,
    displayName: clientId === 'tv' ? 'Living-room TV' : undefined,
    tokenEndpointAuthMethods: ['none'],
    grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'],
    scopes: ['openid', 'devices:read', 'offline_access'],
  });
  // The tenants file is YAML, and JSON is YAML.
  return parseTenants(
    JSON.stringify({
      tenants: [
        {
          id: 'demo',
          clients: [
            deviceClient('tv'),
            deviceClient('other-tv'),
            { ...deviceClient('console'), tokenEndpointAuthMethods: ['client_secret_basic'], secret: 'console-secret' },
            {
              clientId: 'sensor',
              tokenEndpointAuthMethods: ['private_key_jwt'],
              grantTypes: ['client_credentials'],
              scopes: ['devices:read'],
              jwks: { keys: [await jwk('es'), await jwk('rs'), await jwk('ed')] },
            },
          ],
        },
        { id: 'other', clients: [deviceClient('tv')] },
      ],
    }),
  );
}

describe('device authorization grant, private_key_jwt and refresh-token revocation over NATS and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
  let offset = 0;
  const clock = () => Date.now() + offset;
  const advance = (seconds: number) => {
    offset += seconds * 1000;
  };
  const now = () => Math.floor(clock() / 1000);

  let policy: INestMicroservice;

  beforeAll(async () => {
    const tenants = await tenantsWithKeys();
    // Two replicas: polls, lookups and decisions may land on either.
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 2,
      module: ({ databaseUrl, messaging }) =>
        TokenModule.forRoot({
          tenants,
          publicUrl,
          keyEncryption: kek,
          database: { kind: 'url', url: databaseUrl, poolSize: 4 },
          messaging,
          clock,
          deviceFlow: { userCodeThrottle: { maxFailures: MAX_LOOKUP_FAILURES, windowSeconds: 900, lockoutSeconds: 900 } },
        }),
    });
    bus = cluster.client;
    // The policy service's side of scope decisions (docs/adr/0023): a stand-in that allows every scope.
    policy = await startStandInPolicy(cluster.transport, new StandInPolicyState());
  });

  afterAll(async () => {
    await policy?.close();
    await cluster?.stop();
  });

  const adam = () => ({ userId: 'user-adam', authTime: now() - 5, amr: ['pwd'], acr: 'urn:latchkey:acr:pwd' });
  const startDevice = (scope = 'openid devices:read offline_access', client: ClientAuthentication = tv, tenant = 'demo') => bus.send(DeviceAuthorization, { tenant, client, parameters: { scope } });
  const poll = (deviceCode: string, client: ClientAuthentication = tv, tenant = 'demo') => bus.send(IssueToken, { tenant, grantType: DEVICE_CODE_GRANT_TYPE, client, parameters: { device_code: deviceCode } });
  const lookup = (userCode: string, clientIp = '198.51.100.1', tenant = 'demo') => bus.send(LookupUserCode, { tenant, userCode, clientIp });
  const decide = (userCode: string, decision: 'approve' | 'deny', subject: RequestOf<typeof DecideDeviceCode>['subject'] = adam()) => bus.send(DecideDeviceCode, { tenant: 'demo', userCode, decision, subject });
  const active = async (token: string) => (await bus.send(VerifyAccessToken, { tenant: 'demo', token })).active;
  const refresh = (refreshToken: string, client: ClientAuthentication = tv) => bus.send(IssueToken, { tenant: 'demo', grantType: 'refresh_token', client, parameters: { refresh_token: refreshToken } });

  /** A device that its user approved, polled to its tokens (the interval respected). */
  const approvedDeviceTokens = async (client: ClientAuthentication = tv) => {
    const device = await startDevice(undefined, client);
    await decide(device.user_code, 'approve');
    return poll(device.device_code, client);
  };

  describe('RFC 8628 device authorization grant', () => {
    let tokens: ReplyOf<typeof IssueToken>;
    let deviceCode: string;

    it('answers the device authorization request per RFC 8628 §3.2', async () => {
      const device = await startDevice();
      expect(device).toEqual({
        device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        user_code: expect.stringMatching(USER_CODE),
        verification_uri: `${issuer}/device`,
        verification_uri_complete: `${issuer}/device?user_code=${device.user_code}`,
        expires_in: 600,
        interval: 5,
      });
    });

    it('polls pending → slow_down → pending → approved → tokens, exactly once', async () => {
      const device = await startDevice();
      deviceCode = device.device_code;
      await expect(poll(deviceCode)).rejects.toMatchObject({ code: 'authorization_pending' });
      // RFC 8628 §3.5: sooner than the interval is slow_down, and the interval grows by 5 s.
      await expect(poll(deviceCode)).rejects.toMatchObject({ code: 'slow_down' });
      // 5 s later is still too fast for the 10 s interval: 15 s from now on.
      advance(5);
      await expect(poll(deviceCode)).rejects.toMatchObject({ code: 'slow_down' });
      advance(15);
      await expect(poll(deviceCode)).rejects.toMatchObject({ code: 'authorization_pending' });

      // The verification page: the typed code is case-insensitive, dashes and spaces do not count.
      const typed = ` ${device.user_code.toLowerCase().replace('-', ' ')} `;
      await expect(lookup(typed)).resolves.toEqual({ clientId: 'tv', clientName: 'Living-room TV', scopes: ['openid', 'devices:read', 'offline_access'] });
      await expect(decide(typed, 'approve', { ...adam(), sessionId: 'session-tv' })).resolves.toEqual({ approved: true });
      // Decided once: the code is gone for the page.
      await expect(decide(device.user_code, 'deny')).rejects.toMatchObject({ code: 'not_found' });
      await expect(lookup(device.user_code)).rejects.toMatchObject({ code: 'not_found' });

      advance(10);
      tokens = await poll(deviceCode);
      expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'openid devices:read offline_access' });
      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const keys = createLocalJWKSet(await bus.send(GetJwks, { tenant: 'demo' }));
      const { payload: access } = await jwtVerify(tokens.access_token, keys, { issuer, typ: 'at+jwt', currentDate: new Date(clock()) });
      expect(access).toMatchObject({ sub: 'user-adam', client_id: 'tv', scope: 'openid devices:read offline_access', tenant: 'demo' });
      const { payload: id } = await jwtVerify(tokens.id_token!, keys, { issuer, audience: 'tv', currentDate: new Date(clock()) });
      expect(id).toMatchObject({ sub: 'user-adam', amr: ['pwd'], acr: 'urn:latchkey:acr:pwd', sid: 'session-tv' });
      expect(id.nonce).toBeUndefined();
      expect(await active(tokens.access_token)).toBe(true);
    });

    it('case=should fail with invalid_grant on a poll after the tokens were issued, and revoke them', async () => {
      // RFC 8628 §3.5 keeps expired_token for expiry; a consumed code is invalid (RFC 6749 §5.2), and
      // like a replayed authorization code (RFC 6749 §4.1.2) what it issued is revoked.
      advance(10);
      await expect(poll(deviceCode)).rejects.toMatchObject({ code: 'invalid_grant', message: 'device code has already been used' });
      expect(await active(tokens.access_token)).toBe(false);
      await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant' });
    });

    it('issues no refresh token and no ID token without offline_access and openid', async () => {
      const device = await startDevice('devices:read');
      await decide(device.user_code, 'approve');
      const issued = await poll(device.device_code);
      expect(issued.scope).toBe('devices:read');
      expect(issued.refresh_token).toBeUndefined();
      expect(issued.id_token).toBeUndefined();
    });

    it('case=should fail with access_denied once the user denied', async () => {
      const device = await startDevice();
      await expect(decide(device.user_code, 'deny')).resolves.toEqual({ approved: false });
      await expect(poll(device.device_code)).rejects.toMatchObject({ code: 'access_denied' });
      advance(5);
      await expect(poll(device.device_code)).rejects.toMatchObject({ code: 'access_denied' });
    });

    it('case=should fail with expired_token after expiry, approved or not', async () => {
      const pending = await startDevice();
      const approved = await startDevice();
      await decide(approved.user_code, 'approve');
      advance(601);
      await expect(poll(pending.device_code)).rejects.toMatchObject({ code: 'expired_token' });
      await expect(poll(approved.device_code)).rejects.toMatchObject({ code: 'expired_token' });
      await expect(lookup(pending.user_code)).rejects.toMatchObject({ code: 'not_found' });
      await expect(decide(pending.user_code, 'approve')).rejects.toMatchObject({ code: 'not_found' });
    });

    it('case=should fail with invalid_grant for another client\'s, another tenant\'s or an unknown device code', async () => {
      const device = await startDevice();
      await expect(poll(device.device_code, otherTv)).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(poll(device.device_code, tv, 'other')).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(poll('not-a-device-code')).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(bus.send(IssueToken, { tenant: 'demo', grantType: DEVICE_CODE_GRANT_TYPE, client: tv, parameters: {} })).rejects.toMatchObject({ code: 'invalid_request' });
      // A user code of tenant demo does not exist at tenant other.
      await expect(lookup(device.user_code, '198.51.100.2', 'other')).rejects.toMatchObject({ code: 'not_found' });
    });

    it('case=should refuse a device authorization to a client without the grant or with a scope it may not have', async () => {
      await expect(startDevice('devices:write')).rejects.toMatchObject({ code: 'invalid_scope' });
      await expect(startDevice('openid', { method: 'none', clientId: 'nobody' })).rejects.toMatchObject({ code: 'invalid_client' });
      const sensor = await assertion('es');
      await expect(startDevice('devices:read', { method: 'private_key_jwt', assertion: sensor })).rejects.toMatchObject({ code: 'unauthorized_client' });
      await expect(bus.send(DecideDeviceCode, { tenant: 'demo', userCode: (await startDevice()).user_code, decision: 'approve' })).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('case=should lock an IP out after too many failed user-code lookups, answering not_found for every code', async () => {
      const device = await startDevice();
      const ip = '203.0.113.7';
      for (let i = 0; i < MAX_LOOKUP_FAILURES; i++) {
        await expect(lookup(i === 0 ? 'BCDF-GHJK' : 'not a code at all', ip)).rejects.toMatchObject({ code: 'not_found' });
      }
      // Locked: even the right code is "not found" — the same answer, nothing to learn.
      await expect(lookup(device.user_code, ip)).rejects.toMatchObject({ code: 'not_found', message: 'unknown or expired user code' });
      // Another IP is not affected.
      await expect(lookup(device.user_code, '203.0.113.8')).resolves.toMatchObject({ clientId: 'tv' });
      // After the lockout the IP may look codes up again.
      advance(901);
      const later = await startDevice();
      await expect(lookup(later.user_code, ip)).resolves.toMatchObject({ clientId: 'tv' });
    });
  });

  /** A client assertion (RFC 7523 §2.2) of client `sensor`, with overrides for the negative cases. */
  async function assertion(key: keyof typeof keyPairs, claims: JWTPayload = {}, header: { alg?: string; kid?: string | undefined } = {}) {
    const iat = Math.floor(clock() / 1000);
    const kid = 'kid' in header ? header.kid : key === 'stranger' ? 'es' : key;
    return new SignJWT({ iss: 'sensor', sub: 'sensor', aud: tokenEndpoint, iat, exp: iat + 60, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: header.alg ?? algOf[key], ...(kid !== undefined ? { kid } : {}) })
      .sign(keyPairs[key].privateKey);
  }
  const clientCredentials = (auth: ClientAuthentication) => bus.send(IssueToken, { tenant: 'demo', grantType: 'client_credentials', client: auth, parameters: {} });
  const withAssertion = (signed: string, clientId?: string): ClientAuthentication => ({ method: 'private_key_jwt', assertion: signed, ...(clientId ? { clientId } : {}) });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  describe('private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9)', () => {
    it.each(['es', 'rs', 'ed'] as const)('authenticates with a %s key for client_credentials', async (key) => {
      const issued = await clientCredentials(withAssertion(await assertion(key), 'sensor'));
      expect(issued).toMatchObject({ token_type: 'Bearer', scope: 'devices:read' });
      const { payload } = await jwtVerify(issued.access_token, createLocalJWKSet(await bus.send(GetJwks, { tenant: 'demo' })), { issuer, currentDate: new Date(clock()) });
      expect(payload).toMatchObject({ sub: 'sensor', client_id: 'sensor' });
    });

    it('accepts the issuer as audience, an audience array, and an assertion without kid or client_id', async () => {
      await expect(clientCredentials(withAssertion(await assertion('es', { aud: issuer })))).resolves.toMatchObject({ token_type: 'Bearer' });
      await expect(clientCredentials(withAssertion(await assertion('rs', { aud: ['https://elsewhere.test', tokenEndpoint] }, { kid: undefined })))).resolves.toMatchObject({ token_type: 'Bearer' });
    });

    it('case=should fail with invalid_client because the jti was used before', async () => {
      const once = await assertion('es');
      await clientCredentials(withAssertion(once));
      await expect(clientCredentials(withAssertion(once))).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it.each<[string, () => Promise<string>, string?]>([
      ['the audience is another tenant', () => assertion('es', { aud: `${publicUrl}/t/other/oauth2/token` })],
      ['it has expired', () => assertion('es', { iat: now() - 600, exp: now() - 120 })],
      ['exp is too far in the future', () => assertion('es', { exp: now() + 3600 })],
      ['exp is missing', () => assertion('es', { exp: undefined })],
      ['jti is missing', () => assertion('es', { jti: undefined })],
      ['iat is in the future', () => assertion('es', { iat: now() + 200, exp: now() + 250 })],
      ['iss is not the client', () => assertion('es', { iss: 'someone' })],
      ['client_id disagrees with sub', () => assertion('es'), 'other-tv'],
      ['it is signed by an unregistered key', () => assertion('stranger')],
      ['its kid is unknown', () => assertion('es', {}, { kid: 'nope' })],
      ['its alg is not the key\'s (RS256 header on the EC key id)', () => assertion('rs', {}, { kid: 'es' })],
      ['it says alg none', async () => `${b64({ alg: 'none' })}.${b64({ iss: 'sensor', sub: 'sensor', aud: tokenEndpoint, exp: now() + 60, jti: randomUUID() })}.`],
      [
        'it is HS256 with the public key as the secret',
        async () => {
          const input = `${b64({ alg: 'HS256', kid: 'es' })}.${b64({ iss: 'sensor', sub: 'sensor', aud: tokenEndpoint, exp: now() + 60, jti: randomUUID() })}`;
          const publicJwk = JSON.stringify({ ...(await exportJWK(keyPairs.es.publicKey)), kid: 'es', use: 'sig' });
          return `${input}.${createHmac('sha256', publicJwk).update(input).digest('base64url')}`;
        },
      ],
      ['it is not a JWT', async () => 'not.a.jwt'],
    ])('case=should fail with invalid_client because %s', async (...[, make, clientId]) => {
      await expect(clientCredentials(withAssertion(await make(), clientId))).rejects.toMatchObject({ code: 'invalid_client', message: 'client authentication failed' });
    });

    it('case=should fail with invalid_client for a client not registered for private_key_jwt', async () => {
      const signed = await new SignJWT({ iss: 'tv', sub: 'tv', aud: tokenEndpoint, exp: now() + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'es' }).sign(keyPairs.es.privateKey);
      await expect(clientCredentials(withAssertion(signed))).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it('authenticates introspection and revocation the same way', async () => {
      const issued = await clientCredentials(withAssertion(await assertion('es')));
      await expect(bus.send(IntrospectToken, { tenant: 'demo', client: withAssertion(await assertion('ed')), token: issued.access_token })).resolves.toMatchObject({ active: true, client_id: 'sensor' });
      await expect(bus.send(RevokeToken, { tenant: 'demo', client: withAssertion(await assertion('rs')), token: issued.access_token })).resolves.toEqual({ revoked: true });
      expect(await active(issued.access_token)).toBe(false);
      await expect(bus.send(IntrospectToken, { tenant: 'demo', client: withAssertion(await assertion('stranger')), token: issued.access_token })).rejects.toMatchObject({ code: 'invalid_client' });
    });
  });

  describe('refresh tokens at the revocation (RFC 7009) and introspection (RFC 7662) endpoints', () => {
    const introspect = (token: string, client: ClientAuthentication = consoleClient, tokenTypeHint?: string) =>
      bus.send(IntrospectToken, { tenant: 'demo', client, token, ...(tokenTypeHint ? { tokenTypeHint } : {}) });
    const revoke = (token: string, client: ClientAuthentication = tv, tokenTypeHint?: string) => bus.send(RevokeToken, { tenant: 'demo', client, token, ...(tokenTypeHint ? { tokenTypeHint } : {}) });

    it('introspects a live refresh token with the standard fields, for its own client only', async () => {
      const issued = await approvedDeviceTokens(consoleClient);
      const at = now();
      const answer = await introspect(issued.refresh_token!);
      expect(answer).toEqual({
        active: true,
        token_type: 'refresh_token',
        scope: 'openid devices:read offline_access',
        client_id: 'console',
        sub: 'user-adam',
        iss: issuer,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(answer.exp! - at).toBeGreaterThan(13 * 24 * 3600);
      await expect(introspect(issued.refresh_token!, consoleClient, 'refresh_token')).resolves.toMatchObject({ active: true });
      // Another client does not learn anything about it.
      await expect(introspect(issued.refresh_token!, withAssertion(await assertion('es')))).resolves.toEqual({ active: false });
      // Spent by a rotation: inactive; its successor is active.
      const rotated = await refresh(issued.refresh_token!, consoleClient);
      await expect(introspect(issued.refresh_token!)).resolves.toEqual({ active: false });
      await expect(introspect(rotated.refresh_token!, consoleClient, 'access_token')).resolves.toMatchObject({ active: true, token_type: 'refresh_token' });
    });

    it('case=should refuse introspection by a public client with invalid_client, even of its own tokens (RFC 7662 §2.1)', async () => {
      const issued = await approvedDeviceTokens();
      for (const token of [issued.refresh_token!, issued.access_token, 'unknown-token']) {
        await expect(introspect(token, tv)).rejects.toMatchObject({ code: 'invalid_client', message: 'client authentication failed' });
      }
      await expect(introspect(issued.access_token, { method: 'none', clientId: 'nobody' })).rejects.toMatchObject({ code: 'invalid_client' });
      // The same tokens are live for a client that may ask.
      await expect(introspect(issued.access_token)).resolves.toMatchObject({ active: true, client_id: 'tv' });
    });

    it('revokes a refresh token\'s whole family, with the hint or without it', async () => {
      for (const hint of ['refresh_token', undefined]) {
        const issued = await approvedDeviceTokens();
        const rotated = await refresh(issued.refresh_token!);
        await expect(revoke(rotated.refresh_token!, tv, hint)).resolves.toEqual({ revoked: true });
        await expect(refresh(rotated.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant', message: 'refresh token has been revoked' });
        // The access tokens issued in the family are revoked with it.
        expect(await active(issued.access_token)).toBe(false);
        expect(await active(rotated.access_token)).toBe(false);
      }
    });

    it('revokes an access token even when the hint says refresh_token, and ignores unknown tokens', async () => {
      const issued = await approvedDeviceTokens();
      await expect(revoke(issued.access_token, tv, 'refresh_token')).resolves.toEqual({ revoked: true });
      expect(await active(issued.access_token)).toBe(false);
      // The family itself lives on: only the access token was revoked.
      await expect(refresh(issued.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' });
      await expect(revoke('unknown-token', tv, 'refresh_token')).resolves.toEqual({ revoked: false });
    });

    it('case=should refuse to let a public client revoke another client\'s refresh or access token (RFC 7009 §2.1)', async () => {
      const issued = await approvedDeviceTokens();
      for (const hint of ['refresh_token', 'access_token']) {
        await expect(revoke(issued.refresh_token!, otherTv, hint)).rejects.toMatchObject({ code: 'invalid_request', message: 'the token was not issued to this client' });
        await expect(revoke(issued.access_token, otherTv, hint)).rejects.toMatchObject({ code: 'invalid_request', message: 'the token was not issued to this client' });
      }
      // An unknown public client is not a client at all.
      await expect(revoke(issued.access_token, { method: 'none', clientId: 'nobody' })).rejects.toMatchObject({ code: 'invalid_client' });
      expect(await active(issued.access_token)).toBe(true);
      await expect(refresh(issued.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' });
    });
  });
});
