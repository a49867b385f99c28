// RFC 7662 introspection and RFC 7009 revocation over HTTP, against the distributed platform.
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { DEMO_APP, userTokens } from './support/oauth.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment } from './support/platform.js';

let env: E2eEnvironment;
let issuer: string;
const demoBasic = basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret);
const ADAM = { username: 'adam', password: 'adam-password' };
/** The demo mobile app: a public client, which names itself with `client_id` only. */
const demoApp = { client_id: DEMO_APP.id };

beforeAll(async () => {
  env = await startE2eEnvironment();
  issuer = env.platform.issuer('demo');
});

afterAll(async () => {
  await env?.close();
});

async function issueToken(scope = 'devices:read'): Promise<string> {
  const response = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope }, demoBasic);
  expect(response.status).toBe(200);
  return (response.json as { access_token: string }).access_token;
}

/** `authorization: null` sends no client authentication at all. */
const introspect = (token: string, authorization: string | null = demoBasic, extra: Record<string, string> = {}) =>
  postForm(`${issuer}/oauth2/introspect`, { token, ...extra }, authorization ?? undefined);

const revoke = (token: string, authorization: string | null = demoBasic, extra: Record<string, string> = {}) =>
  postForm(`${issuer}/oauth2/revoke`, { token, ...extra }, authorization ?? undefined);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalidClient(response: HttpResult) {
  expect(response.status).toBe(401);
  expectNoStore(response);
  expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  expect(response.json).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
}

function expectNoStore(response: HttpResult) {
  expect(response.headers.get('cache-control')).toBe('no-store');
}

function expectInactive(response: HttpResult) {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expectNoStore(response);
  // RFC 7662 §2.2: an inactive token's response carries nothing but `active`.
  expect(response.text).toBe('{"active":false}');
}

/** The introspection answer RFC 7662 §2.2 expects for a live access token: its own claims. */
function activeResponseFor(token: string) {
  const claims = decodeJwt(token);
  return {
    active: true,
    token_type: 'Bearer',
    scope: claims.scope,
    client_id: DEMO_CLIENT.id,
    sub: DEMO_CLIENT.id,
    aud: issuer,
    iss: issuer,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    tenant: 'demo',
  };
}

describe('introspection (RFC 7662)', () => {
  it('says active with the token claims for a valid token (client_secret_basic)', async () => {
    const token = await issueToken('devices:read devices:write');
    const response = await introspect(token);
    expect(response.status).toBe(200);
    expectNoStore(response);
    expect(response.json).toEqual(activeResponseFor(token));
  });

  it('says active for a valid token when the caller authenticates with client_secret_post', async () => {
    const token = await issueToken();
    const response = await postForm(`${issuer}/oauth2/introspect`, { token, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });
    expect(response.status).toBe(200);
    expect(response.json).toEqual(activeResponseFor(token));
  });

  it('answers openid-client tokenIntrospection with the same claims', async () => {
    const token = await issueToken();
    const config = await client.discovery(new URL(issuer), DEMO_CLIENT.id, undefined, client.ClientSecretBasic(DEMO_CLIENT.secret), { execute: [client.allowInsecureRequests] });
    const result = await client.tokenIntrospection(config, token);
    expect({ ...result }).toEqual(activeResponseFor(token));
  });

  it('ignores a token_type_hint it does not know (RFC 7662 §2.1)', async () => {
    const token = await issueToken();
    expect((await introspect(token, demoBasic, { token_type_hint: 'refresh_token' })).json).toEqual(activeResponseFor(token));
  });

  it('case=should say inactive because the token is garbage', async () => {
    expectInactive(await introspect('garbage'));
  });

  it('case=should say inactive because the signature was tampered with', async () => {
    const token = await issueToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expectInactive(await introspect(`${header}.${payload}.${flipped}`));
  });

  it('case=should say inactive because the payload was changed (more scope) under the original signature', async () => {
    const token = await issueToken('devices:read');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'devices:read devices:write admin' })).toString('base64url');
    expectInactive(await introspect(`${header}.${forged}.${signature}`));
  });

  it('case=should say inactive because the token is signed by a key that is not the tenant key (same kid)', async () => {
    const genuine = await issueToken();
    const { kid } = decodeProtectedHeader(genuine);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...decodeJwt(genuine), jti: 'forged' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: kid! }).sign(privateKey);
    expectInactive(await introspect(forged));
  });

  it('case=should say inactive because the token is an unsigned (alg none) JWT', async () => {
    const claims = decodeJwt(await issueToken());
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expectInactive(await introspect(unsigned));
  });

  it('case=should say inactive because the token is HS256-signed with the tenant public key as the secret', async () => {
    const genuine = await issueToken();
    const { kid } = decodeProtectedHeader(genuine);
    const jwk = ((await http(`${issuer}/jwks`)).json as { keys: Array<JsonWebKey & { kid: string }> }).keys.find((key) => key.kid === kid)!;
    // The key confusion attack: a verifier that took `alg` from the header would check an HMAC keyed
    // with what it holds, the public key — in any of the forms it may hold it.
    const secrets = [JSON.stringify(jwk), createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()];
    const input = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64url({ ...decodeJwt(genuine), jti: 'forged-hs256' })}`;
    for (const secret of secrets) expectInactive(await introspect(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`));
  });

  it('case=should fail because the caller does not authenticate', async () => {
    const token = await issueToken();
    expectInvalidClient(await introspect(token, null));
  });

  it('case=should fail with invalid_client because the caller is a public client, even for its own token (RFC 7662 §2.1)', async () => {
    const own = (await userTokens(issuer, ADAM, 'openid devices:read', DEMO_APP)).access_token;
    for (const token of [own, await issueToken()]) expectInvalidClient(await introspect(token, null, demoApp));
    // The token is live: the refusal was about the caller.
    expect((await introspect(own)).json).toMatchObject({ active: true, client_id: DEMO_APP.id });
  });

  it('case=should fail because the caller secret is wrong', async () => {
    const token = await issueToken();
    const response = await introspect(token, basicAuth(DEMO_CLIENT.id, 'wrong-secret'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    // The token itself is untouched by the failed call.
    expect((await introspect(token)).json).toEqual(activeResponseFor(token));
  });

  it('case=should fail because the token parameter is missing', async () => {
    const response = await postForm(`${issuer}/oauth2/introspect`, {}, demoBasic);
    expect(response.status).toBe(400);
    expectNoStore(response);
    expect(response.json).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes a token: 200, and introspection says {"active":false} at once', async () => {
    const token = await issueToken();
    expect((await introspect(token)).json).toEqual(activeResponseFor(token));
    const response = await revoke(token);
    expect(response.status).toBe(200);
    expectNoStore(response);
    expect(response.text).toBe('');
    expectInactive(await introspect(token));
  });

  it('leaves everything else as it was: other tokens of the client, the JWKS, new issuance', async () => {
    const sibling = await issueToken('devices:read devices:write');
    const victim = await issueToken();
    const siblingBefore = (await introspect(sibling)).json;
    const jwksBefore = (await http(`${issuer}/jwks`)).json;

    expect((await revoke(victim, demoBasic, { token_type_hint: 'access_token' })).status).toBe(200);
    expectInactive(await introspect(victim));

    expect((await introspect(sibling)).json).toEqual(siblingBefore);
    expect(siblingBefore).toEqual(activeResponseFor(sibling));
    expect((await http(`${issuer}/jwks`)).json).toEqual(jwksBefore);
    const fresh = await issueToken();
    expect((await introspect(fresh)).json).toEqual(activeResponseFor(fresh));
  });

  it('revoking the same token twice answers 200 both times', async () => {
    const token = await issueToken();
    expect((await revoke(token)).status).toBe(200);
    const again = await revoke(token);
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
    expectInactive(await introspect(token));
  });

  it('revokes with client_secret_post too', async () => {
    const token = await issueToken();
    const response = await postForm(`${issuer}/oauth2/revoke`, { token, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });
    expect(response.status).toBe(200);
    expectInactive(await introspect(token));
  });

  it('answers openid-client tokenRevocation', async () => {
    const token = await issueToken();
    const config = await client.discovery(new URL(issuer), DEMO_CLIENT.id, undefined, client.ClientSecretBasic(DEMO_CLIENT.secret), { execute: [client.allowInsecureRequests] });
    await expect(client.tokenRevocation(config, token)).resolves.toBeUndefined();
    expectInactive(await introspect(token));
  });

  it('case=should answer 200 because revoking garbage is not an error (RFC 7009 §2.2)', async () => {
    const response = await revoke('garbage');
    expect(response.status).toBe(200);
    expectNoStore(response);
    expect(response.text).toBe('');
  });

  it('case=should fail because the caller does not authenticate, and the token stays active', async () => {
    const token = await issueToken();
    const response = await revoke(token, null);
    expect(response.status).toBe(401);
    expectNoStore(response);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect((await introspect(token)).json).toEqual(activeResponseFor(token));
  });

  it('lets a public client revoke its own tokens: a refresh token ends its family (RFC 7009 §2.1)', async () => {
    const tokens = await userTokens(issuer, ADAM, 'openid offline_access devices:read', DEMO_APP);
    const response = await revoke(tokens.refresh_token!, null, { ...demoApp, token_type_hint: 'refresh_token' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expectInactive(await introspect(tokens.access_token));
    const refreshed = await postForm(`${issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, ...demoApp });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json).toMatchObject({ error: 'invalid_grant' });
  });

  it('case=should refuse a public client revoking another client\'s token, and the token stays active', async () => {
    const token = await issueToken();
    const response = await revoke(token, null, demoApp);
    expect(response.status).toBe(400);
    expectNoStore(response);
    expect(response.json).toEqual({ error: 'invalid_request', error_description: 'the token was not issued to this client' });
    expect((await introspect(token)).json).toEqual(activeResponseFor(token));
  });

  it('case=should fail because the caller secret is wrong, and the token stays active', async () => {
    const token = await issueToken();
    const response = await revoke(token, basicAuth(DEMO_CLIENT.id, 'wrong-secret'));
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect((await introspect(token)).json).toEqual(activeResponseFor(token));
  });

  it('case=should fail because the token parameter is missing', async () => {
    const response = await postForm(`${issuer}/oauth2/revoke`, {}, demoBasic);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });
});

describe('discovery of the two endpoints (RFC 8414 §2)', () => {
  it('lists exactly the client authentication methods each endpoint accepts: none only for revocation', async () => {
    const metadata = (await http(`${issuer}/.well-known/oauth-authorization-server`)).json as Record<string, string[]>;
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
  });
});
