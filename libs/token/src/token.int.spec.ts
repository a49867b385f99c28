import { createPrivateKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type ClientAuthentication, ContractError, GetJwks, IntrospectToken, IssueToken, RevokeToken, TokenHealth } from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster, type TestDatabase } from '@latchkey/testing';
import type { INestMicroservice } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jwtVerify, createLocalJWKSet } from 'jose';
import pg from 'pg';
import { ClientRepository } from './clients/client.repository.js';
import { SigningKeys } from './keys/signing-keys.js';
import { TokenReconciler } from './reconcile/token-reconciler.js';
import { startStandInPolicy, StandInPolicyState } from './test/stand-in-policy.js';
import { TokenModule } from './token.module.js';
import { Revocations } from './tokens/revocations.js';

const tenants = parseTenants(`
tenants:
  - id: demo
    clients:
      - clientId: svc
        secret: svc-secret
        tokenEndpointAuthMethods: [client_secret_basic, client_secret_post]
        grantTypes: [client_credentials]
        scopes: [devices:read, devices:write]
      - clientId: other-svc
        secret: other-secret
        grantTypes: [client_credentials]
  - id: other
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
`);

const publicUrl = 'https://auth.example.test';
const basic = (clientId: string, clientSecret: string) => ({ method: 'client_secret_basic' as const, clientId, clientSecret });

describe('token service over NATS and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let database: TestDatabase;
  let services: INestMicroservice[];
  let client: ContractClient;
  let nats: NatsConnection;
  // The policy service's side of scope decisions (docs/adr/0023): a stand-in that allows every scope.
  let policy: INestMicroservice;
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));

  beforeAll(async () => {
    // Two replicas start at once against an empty schema: reconciliation must not race.
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 2,
      module: ({ databaseUrl, messaging }) => TokenModule.forRoot({ tenants, publicUrl, keyEncryption: kek, database: { kind: 'url', url: databaseUrl, poolSize: 4 }, messaging }),
    });
    ({ database, replicas: services, client } = cluster);
    policy = await startStandInPolicy(cluster.transport, new StandInPolicyState());
    nats = await connect({ servers: cluster.natsUrl });
  });

  afterAll(async () => {
    await nats?.close();
    await policy?.close();
    await cluster?.stop();
  });

  const issue = (tenant = 'demo', auth: ClientAuthentication = basic('svc', 'svc-secret'), parameters: Record<string, string> = {}) =>
    client.send(IssueToken, { tenant, grantType: 'client_credentials', client: auth, parameters });

  it('issues an RFC 9068 access token that verifies against the tenant JWKS', async () => {
    const response = await issue('demo', basic('svc', 'svc-secret'), { scope: 'devices:read' });
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'devices:read' });
    const jwks = await client.send(GetJwks, { tenant: 'demo' });
    const { payload, protectedHeader } = await jwtVerify(response.access_token, createLocalJWKSet(jwks), {
      issuer: `${publicUrl}/t/demo`,
      audience: `${publicUrl}/t/demo`,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'svc', client_id: 'svc', scope: 'devices:read', tenant: 'demo' });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('creates exactly one signing key per tenant even when replicas start together', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const { rows } = await pool.query<{ tenant: string; n: string }>(`SELECT tenant, count(*) AS n FROM token.signing_key WHERE status = 'active' GROUP BY tenant ORDER BY tenant`);
    await pool.end();
    expect(rows).toEqual([
      { tenant: 'demo', n: '1' },
      { tenant: 'other', n: '1' },
    ]);
  });

  it('stores client secrets only as SHA-256 digests and private keys only encrypted', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const clients = await pool.query<{ secret_hash: string }>(`SELECT secret_hash FROM token.oauth_client`);
    const keys = await pool.query<{ private_key_ciphertext: Buffer }>(`SELECT private_key_ciphertext FROM token.signing_key`);
    await pool.end();
    for (const row of clients.rows) expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(clients.rows)).not.toContain('svc-secret');
    for (const row of keys.rows) {
      expect(() => createPrivateKey({ key: row.private_key_ciphertext, format: 'der', type: 'pkcs8' })).toThrow();
    }
  });

  it.each([
    ['the secret is wrong', basic('svc', 'wrong')],
    ['the client is unknown', basic('ghost', 'svc-secret')],
    ['the client uses a method it is not registered for', { method: 'client_secret_post' as const, clientId: 'other-svc', clientSecret: 'other-secret' }],
  ])('case=should fail with invalid_client because %s', async (_case, auth) => {
    await expect(issue('demo', auth)).rejects.toMatchObject({ code: 'invalid_client', message: 'client authentication failed' });
  });

  it('case=should fail with invalid_scope for a scope the client may not have', async () => {
    await expect(issue('demo', basic('svc', 'svc-secret'), { scope: 'devices:read admin' })).rejects.toMatchObject({ code: 'invalid_scope' });
  });

  it('case=should fail with unsupported_grant_type for an unknown grant', async () => {
    await expect(client.send(IssueToken, { tenant: 'demo', grantType: 'password', client: basic('svc', 'svc-secret'), parameters: {} })).rejects.toMatchObject({
      code: 'unsupported_grant_type',
    });
  });

  it('case=should fail with tenant_not_found for an unknown tenant', async () => {
    await expect(issue('nope')).rejects.toMatchObject({ code: 'tenant_not_found' });
  });

  it('introspects a live token, and revocation makes it inactive at once and announces it', async () => {
    const { access_token: token } = await issue();
    const introspected = await client.send(IntrospectToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token });
    expect(introspected).toMatchObject({ active: true, client_id: 'svc', sub: 'svc', token_type: 'Bearer', tenant: 'demo' });

    const announced = new Promise<unknown>((resolve) => {
      const subscription = nats.subscribe('latchkey.events.token.revoked', {
        callback: (_error, message) => {
          const event = message.json<{ data: { jti: string } }>();
          if (event.data.jti === introspected.jti) {
            subscription.unsubscribe();
            resolve(event.data);
          }
        },
      });
    });
    await nats.flush();
    await expect(client.send(RevokeToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token })).resolves.toEqual({ revoked: true });
    await expect(client.send(IntrospectToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token })).resolves.toEqual({ active: false });
    await expect(announced).resolves.toMatchObject({ tenant: 'demo', jti: introspected.jti });
  });

  it('treats revocation of garbage as success without effect (RFC 7009 §2.2)', async () => {
    await expect(client.send(RevokeToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token: 'not-a-token' })).resolves.toEqual({ revoked: false });
  });

  it('case=should refuse to let one client revoke another client\'s token', async () => {
    const { access_token: token } = await issue('demo', basic('other-svc', 'other-secret'));
    await expect(client.send(RevokeToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(client.send(IntrospectToken, { tenant: 'demo', client: basic('svc', 'svc-secret'), token })).resolves.toMatchObject({ active: true });
  });

  it('case=should report a token of tenant demo as inactive at tenant other', async () => {
    const { access_token: token } = await issue('demo');
    await expect(client.send(IntrospectToken, { tenant: 'other', client: basic('svc', 'svc-secret'), token })).resolves.toEqual({ active: false });
    const demoKeys = (await client.send(GetJwks, { tenant: 'demo' })).keys.map((key) => key.kid);
    const otherKeys = (await client.send(GetJwks, { tenant: 'other' })).keys.map((key) => key.kid);
    expect(otherKeys.some((kid) => demoKeys.includes(kid))).toBe(false);
  });

  it('case=should answer invalid_request to a payload that breaks the contract, without touching the domain', async () => {
    const reply = await nats.request(IssueToken.subject, JSON.stringify({ pattern: IssueToken.subject, id: 'raw-1', data: { tenant: 'demo', grantType: 'client_credentials' } }), {
      timeout: 2000,
    });
    const packet = reply.json<{ err?: { code: string; message: string } }>();
    expect(packet.err).toMatchObject({ code: 'invalid_request' });
    expect(packet.err!.message).toMatch(/client/);
  });

  it('sweeps revocation records of tokens that have expired anyway', async () => {
    const revocations = services[0]!.get(Revocations, { strict: false });
    await revocations.revoke('demo', 'expired-jti', 'svc', new Date(Date.now() - 1000));
    await revocations.revoke('demo', 'live-jti', 'svc', new Date(Date.now() + 60_000));
    expect(await revocations.sweepExpired()).toBeGreaterThanOrEqual(1);
    const token = (jti: string) => ({ jti, sub: 'svc', client_id: 'svc', iat: Math.floor(Date.now() / 1000) });
    expect(await revocations.isRevoked('demo', token('expired-jti'))).toBe(false);
    expect(await revocations.isRevoked('demo', token('live-jti'))).toBe(true);
  });

  it('reports its database in its health', async () => {
    await expect(client.send(TokenHealth, {})).resolves.toMatchObject({ service: 'token', status: 'ok', checks: { database: { ok: true } } });
  });

  it('survives ContractError typing across the wire', async () => {
    const error = await issue('demo', basic('svc', 'wrong')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractError);
  });

  describe('reconciliation of the tenants file', () => {
    // What every replica does at start (TokenModule.onModuleInit), run again on both replicas.
    const reconcile = (file: typeof tenants) =>
      Promise.all(services.map((replica) => new TokenReconciler(replica.get(SigningKeys, { strict: false }), replica.get(ClientRepository, { strict: false })).reconcile(file.tenants)));
    const rowsOf = async () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      try {
        const clients = await pool.query<{ tenant: string; client_id: string; secret_hash: string | null; display_name: string | null; scopes: string[] }>(
          `SELECT tenant, client_id, display_name, secret_hash, auth_methods, grant_types, scopes, redirect_uris, access_token_ttl_seconds, managed_by, created_at FROM token.oauth_client ORDER BY tenant, client_id`,
        );
        const keys = await pool.query(`SELECT kid, tenant, alg, status FROM token.signing_key ORDER BY kid`);
        return { clients: clients.rows, keys: keys.rows };
      } finally {
        await pool.end();
      }
    };

    it('case=should create nothing twice and keep every secret hash and signing key when the same file is reconciled again', async () => {
      const before = await rowsOf();
      expect(before.clients.map((row) => `${row.tenant}/${row.client_id}`)).toEqual(['demo/other-svc', 'demo/svc', 'other/svc']);
      await reconcile(tenants);
      await reconcile(tenants);
      expect(await rowsOf()).toEqual(before);
      await expect(issue('demo', basic('svc', 'svc-secret'), { scope: 'devices:read' })).resolves.toMatchObject({ scope: 'devices:read' });
    });

    it('case=should apply an edited file: changed scopes and display name take effect, the secret hash stays', async () => {
      const edited = parseTenants(`
tenants:
  - id: demo
    clients:
      - clientId: svc
        displayName: Fleet telemetry
        secret: svc-secret
        tokenEndpointAuthMethods: [client_secret_basic, client_secret_post]
        grantTypes: [client_credentials]
        scopes: [devices:read, telemetry:write]
      - clientId: other-svc
        secret: other-secret
        grantTypes: [client_credentials]
  - id: other
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
`);
      const before = await rowsOf();
      try {
        await reconcile(edited);
        const after = await rowsOf();
        expect(after.keys).toEqual(before.keys);
        expect(after.clients.map((row) => `${row.tenant}/${row.client_id}`)).toEqual(before.clients.map((row) => `${row.tenant}/${row.client_id}`));
        const svc = after.clients.find((row) => row.tenant === 'demo' && row.client_id === 'svc')!;
        const svcBefore = before.clients.find((row) => row.tenant === 'demo' && row.client_id === 'svc')!;
        expect(svc).toEqual({ ...svcBefore, display_name: 'Fleet telemetry', scopes: ['devices:read', 'telemetry:write'] });
        // Whichever replica answers reads the new registration (each reconciliation dropped its cached copy).
        for (let i = 0; i < 4; i++) {
          await expect(issue('demo', basic('svc', 'svc-secret'), { scope: 'telemetry:write' })).resolves.toMatchObject({ scope: 'telemetry:write' });
          await expect(issue('demo', basic('svc', 'svc-secret'), { scope: 'devices:write' })).rejects.toMatchObject({ code: 'invalid_scope' });
        }
      } finally {
        await reconcile(tenants);
      }
      expect(await rowsOf()).toEqual(before);
    });
  });
});
