// private_key_jwt (RFC 7523 §2.2, OIDC Core §9) end to end: a temporary tenants file registers
// clients whose public keys the test generated (one per advertised algorithm); openid-client
// authenticates with the private keys at the token, introspection and revocation endpoints. Replayed
// assertions and wrong audiences are built by hand with jose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { devTenants, tenantsYaml } from './support/device.js';
import { type E2eEnvironment, http, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
const keys = new Map<Algorithm, Awaited<ReturnType<typeof generateKeyPair>>['privateKey']>();
const clientIdOf = (alg: Algorithm) => `jwt-${alg.toLowerCase()}`;

beforeAll(async () => {
  const tenants = devTenants();
  const demo = tenants.tenants[0]!;
  for (const alg of ALGORITHMS) {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys.set(alg, pair.privateKey);
    const jwk = await exportJWK(pair.publicKey);
    demo.clients.push({
      clientId: clientIdOf(alg),
      displayName: `Sensor signing with ${alg}`,
      tokenEndpointAuthMethods: ['private_key_jwt'],
      grantTypes: ['client_credentials'],
      scopes: ['devices:read'],
      jwks: { keys: [{ ...jwk, kid: `${alg}-1`, alg, use: 'sig' }] },
    });
  }
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  issuer = env.platform.issuer('demo');
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const insecure = { execute: [client.allowInsecureRequests] };
const jwtClient = (alg: Algorithm) => client.discovery(new URL(issuer), clientIdOf(alg), undefined, client.PrivateKeyJwt(keys.get(alg)!), insecure);

/** A client assertion as RFC 7523 §3 wants it; `overrides` change claims for the negative cases. */
async function assertion(alg: Algorithm, overrides: { aud?: string; jti?: string } = {}): Promise<string> {
  const clientId = clientIdOf(alg);
  return new SignJWT({})
    .setProtectedHeader({ alg, kid: `${alg}-1` })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(overrides.aud ?? `${issuer}/oauth2/token`)
    .setJti(overrides.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(keys.get(alg)!);
}

const tokenRequest = async (alg: Algorithm, jwt: string) =>
  postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: jwt, client_id: clientIdOf(alg) });

describe('private_key_jwt', () => {
  it('is advertised with exactly the algorithms a registered key can use', async () => {
    const metadata = (await http(`${issuer}/.well-known/openid-configuration`)).json as Record<string, unknown>;
    for (const endpoint of ['token', 'introspection', 'revocation']) {
      expect(metadata[`${endpoint}_endpoint_auth_methods_supported`]).toContain('private_key_jwt');
      expect(metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`]).toEqual([...ALGORITHMS]);
    }
  });

  it.each(ALGORITHMS)('%s: client_credentials, introspection and revocation with openid-client', async (alg) => {
    const config = await jwtClient(alg);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'devices:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: clientIdOf(alg), scope: 'devices:read' });
    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: false });
  });

  it('refuses a replayed assertion (same jti) with 401 invalid_client', async () => {
    const jwt = await assertion('ES256');
    expect((await tokenRequest('ES256', jwt)).status).toBe(200);
    const replay = await tokenRequest('ES256', jwt);
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ error: 'invalid_client' });
    expect(replay.headers.get('www-authenticate')).toEqual(expect.any(String));
  });

  it('refuses an assertion for another audience with invalid_client', async () => {
    const wrongAudience = await tokenRequest('ES256', await assertion('ES256', { aud: 'https://other.example/oauth2/token' }));
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.json).toMatchObject({ error: 'invalid_client' });
    // Signed by another client's key.
    const otherKey = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('jwt-rs256').setSubject('jwt-rs256').setAudience(issuer).setJti(randomUUID()).setIssuedAt().setExpirationTime('60s').sign(keys.get('ES256')!);
    expect((await tokenRequest('RS256', otherKey)).json).toMatchObject({ error: 'invalid_client' });
  });
});
