// A real OAuth client (openid-client v6) against the distributed platform: discovery, the
// client-credentials grant with both secret methods, and verification of the RFC 9068 access token
// against the tenant's JWKS with jose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { DEMO_CLIENT, type E2eEnvironment, http, postForm, startE2eEnvironment } from './support/platform.js';

let env: E2eEnvironment;
let issuer: string;

beforeAll(async () => {
  env = await startE2eEnvironment();
  issuer = env.platform.issuer('demo');
});

afterAll(async () => {
  await env?.close();
});

interface SeenRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** Discovers the demo issuer with openid-client and records every request the client sends. */
async function discover(auth: client.ClientAuth): Promise<{ config: client.Configuration; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const config = await client.discovery(new URL(issuer), DEMO_CLIENT.id, undefined, auth, { execute: [client.allowInsecureRequests] });
  config[client.customFetch] = async (url, options) => {
    seen.push({ url, method: options.method, headers: new Headers(options.headers), body: typeof options.body === 'string' ? options.body : String(options.body ?? '') });
    return fetch(url, options as RequestInit);
  };
  return { config, seen };
}

/** Verifies an access token the way a resource server would: JWKS from discovery, RFC 9068 typ. */
async function verifyAccessToken(token: string) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  return jwtVerify(token, jwks, { issuer, audience: issuer, typ: 'at+jwt', algorithms: ['ES256'] });
}

function expectAccessTokenClaims(payload: Record<string, unknown>, scope: string) {
  const now = Math.floor(Date.now() / 1000);
  expect(payload).toEqual({
    iss: issuer,
    sub: DEMO_CLIENT.id,
    aud: issuer,
    client_id: DEMO_CLIENT.id,
    scope,
    iat: expect.any(Number),
    exp: expect.any(Number),
    jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    tenant: 'demo',
  });
  const { iat, exp } = payload as { iat: number; exp: number };
  expect(Math.abs(iat - now)).toBeLessThanOrEqual(5);
  // config/tenants.dev.yaml: accessTokenTtlSeconds 300 for the demo tenant.
  expect(exp - iat).toBe(300);
}

describe('discovery (RFC 8414, OpenID Connect Discovery)', () => {
  for (const document of ['openid-configuration', 'oauth-authorization-server']) {
    it(`serves /.well-known/${document} with the issuer and the endpoints that exist`, async () => {
      const response = await http(`${issuer}/.well-known/${document}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const metadata = response.json as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/oauth2/token`,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/oauth2/introspect`,
        revocation_endpoint: `${issuer}/oauth2/revoke`,
        grant_types_supported: expect.arrayContaining(['client_credentials']),
        token_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
        introspection_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
        revocation_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
      });

      // Every advertised endpoint exists: the JWKS answers with keys, the POST endpoints answer an
      // OAuth error (not 404) to an empty, unauthenticated request.
      const jwks = await http(metadata.jwks_uri as string);
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
      expect((jwks.json as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
      for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
        const answer = await postForm(metadata[endpoint] as string, {});
        expect([endpoint, answer.status]).toEqual([endpoint, expect.any(Number)]);
        expect(answer.status === 400 || answer.status === 401).toBe(true);
        expect(answer.json).toEqual({ error: expect.any(String), error_description: expect.any(String) });
      }
    });
  }

  it('serves the RFC 8414 §3.1 path-inserted metadata URL too, so oauth2-algorithm discovery works', async () => {
    const { origin, pathname } = new URL(issuer);
    const inserted = await http(`${origin}/.well-known/oauth-authorization-server${pathname}`);
    expect(inserted.status).toBe(200);
    expect(inserted.json).toMatchObject({ issuer });
    const config = await client.discovery(new URL(issuer), 'demo-service', 'demo-service-secret', undefined, {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).toBe(issuer);
  });

  it('publishes only public EC P-256 signing keys in the JWKS', async () => {
    const { json } = await http(`${issuer}/jwks`);
    for (const key of (json as { keys: Record<string, unknown>[] }).keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String), x: expect.any(String), y: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
  });
});

describe('client credentials grant with openid-client', () => {
  it('discovers the demo issuer', async () => {
    const { config } = await discover(client.ClientSecretBasic(DEMO_CLIENT.secret));
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.token_endpoint).toBe(`${issuer}/oauth2/token`);
    expect(metadata.jwks_uri).toBe(`${issuer}/jwks`);
  });

  it('gets a token with client_secret_basic that verifies against the JWKS', async () => {
    const { config, seen } = await discover(client.ClientSecretBasic(DEMO_CLIENT.secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'devices:read' });

    // The client really used HTTP Basic and did not send the secret in the body.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe(`${issuer}/oauth2/token`);
    expect(seen[0]!.headers.get('authorization')).toMatch(/^Basic /);
    expect(new URLSearchParams(seen[0]!.body).has('client_secret')).toBe(false);

    expect(tokens.token_type).toBe('bearer'); // oauth4webapi normalises the case of token_type
    expect(tokens.expires_in).toBe(300);
    expect(tokens.scope).toBe('devices:read');
    const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token);
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expectAccessTokenClaims(payload as Record<string, unknown>, 'devices:read');
  });

  it('gets a token with client_secret_post that verifies against the JWKS', async () => {
    const { config, seen } = await discover(client.ClientSecretPost(DEMO_CLIENT.secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'devices:read devices:write' });

    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    const body = new URLSearchParams(seen[0]!.body);
    expect([body.get('client_id'), body.get('client_secret'), body.get('grant_type')]).toEqual([DEMO_CLIENT.id, DEMO_CLIENT.secret, 'client_credentials']);

    expect(tokens.scope).toBe('devices:read devices:write');
    const { payload } = await verifyAccessToken(tokens.access_token);
    expectAccessTokenClaims(payload as Record<string, unknown>, 'devices:read devices:write');
  });

  it('grants every allowed scope when none is asked for, and a new jti every time', async () => {
    const { config } = await discover(client.ClientSecretBasic(DEMO_CLIENT.secret));
    const first = await client.clientCredentialsGrant(config);
    const second = await client.clientCredentialsGrant(config);
    expect(first.scope).toBe(DEMO_CLIENT.scopes.join(' '));
    const [a, b] = await Promise.all([verifyAccessToken(first.access_token), verifyAccessToken(second.access_token)]);
    expectAccessTokenClaims(a.payload as Record<string, unknown>, DEMO_CLIENT.scopes.join(' '));
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it('signs with a key that the JWKS names by kid', async () => {
    const { config } = await discover(client.ClientSecretBasic(DEMO_CLIENT.secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'devices:read' });
    const { kid } = decodeProtectedHeader(tokens.access_token);
    const { json } = await http(`${issuer}/jwks`);
    expect((json as { keys: { kid: string }[] }).keys.map((key) => key.kid)).toContain(kid);
  });

  it('case=should fail because the secret is wrong (openid-client sees invalid_client)', async () => {
    const { config } = await discover(client.ClientSecretBasic('not-the-secret'));
    const error = await client.clientCredentialsGrant(config, { scope: 'devices:read' }).catch((e: unknown) => e);
    // A 401 with a WWW-Authenticate challenge (RFC 6749 §5.2) surfaces as the challenge error.
    expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = error as client.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause.map((c) => c.scheme)).toEqual(['basic']);
    expect(await challenge.response.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
  });
});
