// The authorization endpoint over NATS and PostgreSQL for what OIDC Core adds to RFC 6749: when an
// authentication is fresh enough for max_age / prompt=login / prompt=select_account (§3.1.2.1), and
// request objects, which Latchkey refuses with the errors §6 names.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { BeginAuthorization, CompleteAuthorization } from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { TokenModule } from '../token.module.js';

const REDIRECT = 'https://web.example.test/callback';
const tenants = parseTenants(`
tenants:
  - id: demo
    clients:
      - clientId: web
        displayName: Web app
        secret: web-secret
        tokenEndpointAuthMethods: [client_secret_basic]
        grantTypes: [authorization_code, refresh_token]
        redirectUris: [${REDIRECT}]
        scopes: [openid, profile, offline_access]
`);
const publicUrl = 'https://auth.example.test';
const issuer = `${publicUrl}/t/demo`;

describe('authorization interactions: authentication freshness and request objects', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const seconds = (ms: number) => Math.floor(ms / 1000);

  beforeAll(async () => {
    const keyEncryption = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 1,
      module: ({ databaseUrl, messaging }) => TokenModule.forRoot({ tenants, publicUrl, keyEncryption, database: { kind: 'url', url: databaseUrl, poolSize: 2 }, messaging, clock }),
    });
    bus = cluster.client;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const parameters = (extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    state: 'state-1',
    code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });

  /** Begins a request at the current (shifted) clock; the interaction's id. */
  const begin = async (extra: Record<string, string>) => {
    const started = await bus.send(BeginAuthorization, { tenant: 'demo', parameters: parameters(extra) });
    if (started.outcome !== 'interaction') throw new Error(`expected an interaction, got ${started.location}`);
    return started.interactionId;
  };
  const subject = (authTime: number) => ({ userId: 'user-adam', authTime, amr: ['pwd'], acr: 'urn:latchkey:loa:1', sessionId: 'sid-1' });
  const approve = (interactionId: string, authTime: number) => bus.send(CompleteAuthorization, { tenant: 'demo', interactionId, decision: 'approve', subject: subject(authTime), remember: true });

  /** Runs `body` with the token service's clock `ms` ahead, then puts it back. */
  const later = async <T>(ms: number, body: () => Promise<T>): Promise<T> => {
    offsetMs = ms;
    try {
      return await body();
    } finally {
      offsetMs = 0;
    }
  };

  it('case=should issue a code for max_age=0 when the person signed in during the request, however long consent took', async () => {
    const requestBegan = Date.now();
    const interactionId = await begin({ max_age: '0' });
    // Signed in 2 s after the request began, clicked Allow 5 s after it: before the fix, 3 s > max_age.
    const reply = await later(5000, () => approve(interactionId, seconds(requestBegan) + 2));
    const location = new URL(reply.location);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBe('state-1');
  });

  it('case=should refuse max_age=0 with a session from before the request, and keep the interaction for a new sign-in', async () => {
    const requestBegan = Date.now();
    const interactionId = await begin({ max_age: '0' });
    await expect(later(1500, () => approve(interactionId, seconds(requestBegan) - 1))).rejects.toMatchObject({ code: 'invalid_request', message: 'authentication is older than max_age: re-authenticate' });
    await expect(later(3000, () => approve(interactionId, seconds(requestBegan) + 2))).resolves.toMatchObject({ location: expect.stringContaining('code=') });
  });

  it('case=should keep honouring max_age for a session from before the request that is young enough', async () => {
    const requestBegan = Date.now();
    const interactionId = await begin({ max_age: '600' });
    await expect(approve(interactionId, seconds(requestBegan) - 300)).resolves.toMatchObject({ location: expect.stringContaining('code=') });
    const stale = await begin({ max_age: '600' });
    await expect(approve(stale, seconds(requestBegan) - 601)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('case=should answer prompt=select_account only with a sign-in made during the request', async () => {
    const requestBegan = Date.now();
    const interactionId = await begin({ prompt: 'select_account' });
    await expect(approve(interactionId, seconds(requestBegan) - 60)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(later(2000, () => approve(interactionId, seconds(requestBegan) + 1))).resolves.toMatchObject({ location: expect.stringContaining('code=') });
  });

  it.each([
    ['request', { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.' }, 'request_not_supported', 'request objects (the request parameter) are not supported'],
    ['request_uri', { request_uri: 'https://web.example.test/request.jwt' }, 'request_uri_not_supported', 'the request_uri parameter is not supported'],
  ] as const)('case=should answer a %s parameter with its OIDC Core §6 error at the redirect URI, with state and iss', async (_name, extra, error, description) => {
    const reply = await bus.send(BeginAuthorization, { tenant: 'demo', parameters: parameters(extra) });
    expect(reply.outcome).toBe('redirect');
    const location = new URL((reply as { location: string }).location);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toEqual({ error, error_description: description, state: 'state-1', iss: issuer });
  });

  it('case=should still refuse a request object of an unknown client without redirecting', async () => {
    await expect(bus.send(BeginAuthorization, { tenant: 'demo', parameters: parameters({ client_id: 'ghost', request: 'x.y.z' }) })).rejects.toMatchObject({ code: 'invalid_client' });
  });
});
