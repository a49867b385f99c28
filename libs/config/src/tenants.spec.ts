import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseEnv, TokenServiceEnv } from './index.js';
import { issuerOf, parseTenants } from './tenants.js';

describe('tenants file', () => {
  it('accepts the development file and fills defaults', () => {
    const file = parseTenants(readFileSync(new URL('../../../config/tenants.dev.yaml', import.meta.url), 'utf8'));
    const demo = file.tenants.find((tenant) => tenant.id === 'demo')!;
    expect(demo.accessTokenTtlSeconds).toBe(300);
    expect(demo.clients.map((client) => client.clientId)).toEqual(['demo-service', 'demo-web', 'demo-app', 'demo-tv', 'demo-sensor']);
    expect(demo.clients.find((client) => client.clientId === 'demo-app')).toMatchObject({ tokenEndpointAuthMethods: ['none'], idTokenSignedResponseAlg: 'ES256' });
    expect(demo.clients.find((client) => client.clientId === 'demo-tv')).toMatchObject({
      tokenEndpointAuthMethods: ['none'],
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      scopes: ['openid', 'devices:read', 'offline_access'],
    });
    const sensor = demo.clients.find((client) => client.clientId === 'demo-sensor')!;
    expect(sensor).toMatchObject({ tokenEndpointAuthMethods: ['private_key_jwt'], grantTypes: ['client_credentials'] });
    expect(sensor.jwks!.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'demo-sensor-1' });
    expect(sensor.jwks!.keys[0]).not.toHaveProperty('d');
    expect(demo.users.map((user) => user.username)).toEqual(['adam', 'bianca']);
    expect(demo.devices[0]).toMatchObject({ serial: 'lock-1', type: 'bike-lock', owner: 'adam' });
  });

  it('case=should give a tenant its own issuer when the file overrides it, and the default otherwise', () => {
    parseTenants('tenants: [{ id: acme, issuer: "https://auth.acme.example/t/acme" }, { id: other }]');
    expect(issuerOf('https://latchkey.example', 'acme')).toBe('https://auth.acme.example/t/acme');
    expect(issuerOf('https://latchkey.example', 'other')).toBe('https://latchkey.example/t/other');
    // A later file without the override (a reload) takes it away again.
    parseTenants('tenants: [{ id: acme }]');
    expect(issuerOf('https://latchkey.example', 'acme')).toBe('https://latchkey.example/t/acme');
  });

  it.each([
    ['an issuer whose path is not the tenant\'s', 'tenants: [{ id: acme, issuer: "https://auth.acme.example/acme" }]', /issuer's path must be \/t\/acme/],
    ['an issuer with a query', 'tenants: [{ id: acme, issuer: "https://auth.acme.example/t/acme?x=1" }]', /no query, fragment or credentials/],
    ['an issuer that is not http(s)', 'tenants: [{ id: acme, issuer: "ftp://auth.acme.example/t/acme" }]', /tenants\.0\.issuer/],
  ])('case=should refuse %s', (_name, yaml, message) => {
    expect(() => parseTenants(yaml)).toThrow(message);
  });

  it.each([
    ['a tenant id that is not a slug', 'tenants: [{ id: "Demo Tenant" }]', /tenants\.0\.id/],
    ['duplicate tenants', 'tenants: [{ id: a }, { id: a }]', /duplicate tenant a/],
    ['duplicate clients', 'tenants: [{ id: a, clients: [{ clientId: c, secret: s, grantTypes: [client_credentials] }, { clientId: c, secret: s, grantTypes: [client_credentials] }] }]', /duplicate clientId c/],
    ['a secret client without a secret', 'tenants: [{ id: a, clients: [{ clientId: c, grantTypes: [client_credentials] }] }]', /needs secret/],
    ['two secret sources', 'tenants: [{ id: a, clients: [{ clientId: c, secret: s, secretFromEnv: S, grantTypes: [x] }] }]', /at most one/],
    ['a redirect URI with a fragment', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [none], grantTypes: [authorization_code], redirectUris: ["https://a.test/cb#x"] }] }]', /fragment/],
    ['an authorization-code client without redirect URIs', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [none], grantTypes: [authorization_code] }] }]', /redirect URI/],
    ['an unsupported ID token algorithm', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [none], grantTypes: [x], idTokenSignedResponseAlg: HS256 }] }]', /idTokenSignedResponseAlg/],
    ['a private_key_jwt client without jwks', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [private_key_jwt], grantTypes: [client_credentials] }] }]', /needs jwks/],
    [
      'a client JWK with its private part',
      'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [private_key_jwt], grantTypes: [client_credentials], jwks: { keys: [{ kty: EC, crv: P-256, x: AAAA, y: AAAA, d: AAAA }] } }] }]',
      /must be public/,
    ],
    ['a symmetric client JWK', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [private_key_jwt], grantTypes: [x], jwks: { keys: [{ kty: oct, k: AAAA }] } }] }]', /must be public/],
    ['a client JWK on another curve', 'tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [private_key_jwt], grantTypes: [x], jwks: { keys: [{ kty: EC, crv: P-384, x: AAAA, y: AAAA }] } }] }]', /jwks/],
    [
      'an RSA client key under 2048 bits',
      `tenants: [{ id: a, clients: [{ clientId: c, tokenEndpointAuthMethods: [private_key_jwt], grantTypes: [x], jwks: { keys: [{ kty: RSA, e: AQAB, n: ${Buffer.alloc(128, 0xff).toString('base64url')} }] } }] }]`,
      /2048/,
    ],
    ['an unknown field', 'tenants: [{ id: a, colour: red }]', /colour|unrecognized/i],
    ['broken YAML', 'tenants: [', /not valid YAML/],
  ])('case=should refuse %s with a readable message', (_case, yaml, message) => {
    expect(() => parseTenants(yaml, 'test.yaml')).toThrow(ConfigError);
    expect(() => parseTenants(yaml, 'test.yaml')).toThrow(message);
  });
});

describe('environment', () => {
  const base = { DATABASE_URL: 'postgres://u@h:5432/d', LATCHKEY_KEK: Buffer.alloc(32, 7).toString('base64') };

  it('parses and defaults a token service environment', () => {
    const env = parseEnv(TokenServiceEnv, { ...base, NATS_URL: 'nats://a:4222, nats://b:4222' });
    expect(env.NATS_URL).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(env.PUBLIC_URL).toBe('http://localhost:3000');
  });

  it('case=should fail fast naming every bad variable', () => {
    const attempt = () => parseEnv(TokenServiceEnv, { DATABASE_URL: 'mysql://x', LATCHKEY_KEK: 'short', PUBLIC_URL: 'ftp://x/' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/DATABASE_URL[\s\S]*LATCHKEY_KEK[\s\S]*PUBLIC_URL/);
  });
});
