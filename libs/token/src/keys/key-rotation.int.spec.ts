import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { GetJwks, IntrospectToken, IssueToken, ListSigningKeys, RotateSigningKey } from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import type { ContractClient } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { TokenModule } from '../token.module.js';
import { SigningKeys } from './signing-keys.js';

const DEVICE_LIFETIME_S = 1800;
const DELEGATED_LIFETIME_S = 900;

const tenants = parseTenants(`
tenants:
  - id: demo
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
  - id: other
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
  - id: race
    clients: []
  # Tokens that outlive the tenant default: a device type's, and delegated tokens'.
  - id: fleet
    accessTokenTtlSeconds: 300
    deviceTypes:
      - type: meter
        accessTokenTtlSeconds: ${DEVICE_LIFETIME_S}
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
  - id: sharing
    accessTokenTtlSeconds: 300
    delegation:
      tokenTtlSeconds: ${DELEGATED_LIFETIME_S}
    clients:
      - clientId: svc
        secret: svc-secret
        grantTypes: [client_credentials]
`);

const publicUrl = 'https://auth.example.test';
const svc = { method: 'client_secret_basic' as const, clientId: 'svc', clientSecret: 'svc-secret' };
const PROPAGATION_MS = 60_000;
const SKEW_MS = 5_000;
const LIFETIME_S = 300;
const OTHER_INTERVAL_MS = 30 * 60_000;

interface RotatedEvent {
  tenant: string;
  kid: string;
  previousKid?: string;
  activatedAt: string;
  previousPublishedUntil?: string;
  reason?: string;
}

describe('signing-key rotation at run time, over NATS and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let pool: pg.Pool;
  let nats: NatsConnection;
  let client: ContractClient;
  let events: Subscription;
  const rotated: RotatedEvent[] = [];
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));

  // Every replica shares this clock; the tests move it instead of waiting.
  let offset = 0;
  const clock = () => Date.now() + offset;
  const setClock = (at: number) => {
    offset = at - Date.now();
  };

  /** Replicas started from now on check their schedule this often; an hour keeps it quiet, so promotions happen lazily. */
  let checkIntervalMs = 3_600_000;

  beforeAll(async () => {
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
          keyRotation: { propagationDelayMs: PROPAGATION_MS, clockSkewMs: SKEW_MS, checkIntervalMs, tenantIntervalsMs: { other: OTHER_INTERVAL_MS } },
        }),
    });
    client = cluster.client;
    nats = await connect({ servers: cluster.natsUrl });
    events = nats.subscribe('latchkey.events.token.signing-key-rotated', {
      callback: (_error, message) => {
        rotated.push(message.json<{ data: RotatedEvent }>().data);
      },
    });
    await nats.flush();
    pool = new pg.Pool({ connectionString: cluster.database.url, max: 1 });
  });

  afterAll(async () => {
    events?.unsubscribe();
    await nats?.close();
    await pool?.end();
    await cluster?.stop();
  });

  const issue = async (tenant = 'demo') => (await client.send(IssueToken, { tenant, grantType: 'client_credentials', client: svc, parameters: {} })).access_token;
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;
  /** Enough requests that both replicas (a queue group picks one per request) answer some. */
  const issuedKids = async (tenant = 'demo', n = 10) => new Set(await Promise.all(Array.from({ length: n }, async () => kidOf(await issue(tenant)))));
  const jwksKids = async (tenant = 'demo') => (await client.send(GetJwks, { tenant })).keys.map((key) => key.kid).sort();
  const listed = async (tenant = 'demo') => (await client.send(ListSigningKeys, { tenant })).keys.map((key) => [key.kid, key.status, key.published]);
  const keyRows = async (tenant: string) =>
    (await pool.query<{ kid: string; status: string; activates_at: Date; retired_at: Date | null; publish_until: Date | null; rotation_reason: string | null }>(
      `SELECT kid, status, activates_at, retired_at, publish_until, rotation_reason FROM token.signing_key WHERE tenant = $1 ORDER BY created_at`,
      [tenant],
    )).rows;
  const verifyAgainstJwks = async (token: string, tenant = 'demo') =>
    jwtVerify(token, createLocalJWKSet(await client.send(GetJwks, { tenant })), { issuer: `${publicUrl}/t/${tenant}`, typ: 'at+jwt', currentDate: new Date(clock()) });
  const waitFor = async <T>(probe: () => Promise<T | undefined | null | false>, what: string, ms = 10_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  let oldKid: string;
  let oldToken: string;
  let newKid: string;
  let activatesAt: number;

  it('starts with one active key per tenant in the JWKS', async () => {
    oldToken = await issue();
    oldKid = kidOf(oldToken)!;
    expect(await jwksKids()).toEqual([oldKid]);
    expect((await keyRows('demo')).map((row) => row.status)).toEqual(['active']);
  });

  it('publishes the next key at once, but keeps signing with the old key until its activation instant', async () => {
    const reply = await client.send(RotateSigningKey, { tenant: 'demo', reason: 'integration test' });
    newKid = reply.kid;
    activatesAt = Date.parse(reply.activatesAt);
    expect(newKid).not.toBe(oldKid);
    expect(activatesAt - clock()).toBeGreaterThan(PROPAGATION_MS - 5_000);
    expect(activatesAt - clock()).toBeLessThanOrEqual(PROPAGATION_MS);

    expect(await jwksKids()).toEqual([oldKid, newKid].sort());
    expect(await issuedKids()).toEqual(new Set([oldKid]));
    // Past every signer cache's lifetime, a moment before activation: still the old key on every replica.
    setClock(activatesAt - 1000);
    expect(await issuedKids()).toEqual(new Set([oldKid]));
    expect((await keyRows('demo')).map((row) => [row.kid, row.status])).toEqual([
      [oldKid, 'active'],
      [newKid, 'next'],
    ]);
    expect(await listed()).toEqual([
      [newKid, 'next', true],
      [oldKid, 'active', true],
    ]);
    expect(rotated).toEqual([]);
  });

  it('answers a second rotation request while one is pending with the pending key', async () => {
    const again = await client.send(RotateSigningKey, { tenant: 'demo' });
    expect(again).toEqual({ kid: newKid, activatesAt: new Date(activatesAt).toISOString() });
    expect(await keyRows('demo')).toHaveLength(2);
  });

  it('case=should create exactly one next key when two replicas rotate concurrently', async () => {
    const [a, b] = cluster.replicas.map((replica) => replica.get(SigningKeys, { strict: false }));
    const results = await Promise.all([a!.rotate('race', 'ES256', 'a'), b!.rotate('race', 'ES256', 'b'), a!.rotate('race', 'ES256', 'a2'), client.send(RotateSigningKey, { tenant: 'race' })]);
    const kids = new Set(results.map((result) => result.kid));
    expect(kids.size).toBe(1);
    const rows = await keyRows('race');
    expect(rows.filter((row) => row.status === 'next')).toHaveLength(1);
    expect(rows.filter((row) => row.status === 'active')).toHaveLength(1);
    expect(results.filter((result) => 'created' in result && result.created).length).toBeLessThanOrEqual(1);
  });

  it('signs with the new key from its activation on; tokens of the old key still introspect and verify', async () => {
    setClock(activatesAt);
    expect(await issuedKids()).toEqual(new Set([newKid]));

    const introspected = await client.send(IntrospectToken, { tenant: 'demo', client: svc, token: oldToken });
    expect(introspected).toMatchObject({ active: true, client_id: 'svc' });
    await expect(verifyAgainstJwks(oldToken)).resolves.toMatchObject({ protectedHeader: { kid: oldKid } });
    await expect(verifyAgainstJwks(await issue())).resolves.toMatchObject({ protectedHeader: { kid: newKid } });
    expect(await jwksKids()).toEqual([oldKid, newKid].sort());

    const rows = await keyRows('demo');
    expect(rows.map((row) => [row.kid, row.status])).toEqual([
      [oldKid, 'retired'],
      [newKid, 'active'],
    ]);
    expect(rows[0]!.retired_at!.getTime()).toBe(activatesAt);
    expect(rows[0]!.publish_until!.getTime()).toBe(activatesAt + LIFETIME_S * 1000 + SKEW_MS);
    expect(rows[1]!.rotation_reason).toBe('integration test');

    // Promoted lazily by whichever replica signed first, announced exactly once.
    await waitFor(async () => rotated.some((event) => event.tenant === 'demo'), 'the rotation event');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rotated.filter((event) => event.tenant === 'demo')).toEqual([
      {
        tenant: 'demo',
        kid: newKid,
        previousKid: oldKid,
        activatedAt: new Date(activatesAt).toISOString(),
        previousPublishedUntil: rows[0]!.publish_until!.toISOString(),
        reason: 'integration test',
      },
    ]);
  });

  it('lists the keys for operators, newest first: states, times and reasons, no private material', async () => {
    const [oldRow, newRow] = await keyRows('demo');
    const { keys } = await client.send(ListSigningKeys, { tenant: 'demo' });
    // Exactly these members: nothing of the private key or its ciphertext.
    expect(keys).toEqual([
      { kid: newKid, alg: 'ES256', status: 'active', published: true, createdAt: expect.any(String), activatesAt: newRow!.activates_at.toISOString(), retiredAt: null, publishUntil: null, rotationReason: 'integration test' },
      {
        kid: oldKid,
        alg: 'ES256',
        status: 'retired',
        published: true,
        createdAt: expect.any(String),
        activatesAt: oldRow!.activates_at.toISOString(),
        retiredAt: new Date(activatesAt).toISOString(),
        publishUntil: oldRow!.publish_until!.toISOString(),
        rotationReason: null,
      },
    ]);
    await expect(client.send(ListSigningKeys, { tenant: 'nobody' })).rejects.toMatchObject({ code: 'tenant_not_found' });
  });

  it('drops the retired key from the JWKS once every token it signed has expired', async () => {
    const [oldRow] = await keyRows('demo');
    setClock(oldRow!.publish_until!.getTime() - 2000);
    expect(await jwksKids()).toEqual([oldKid, newKid].sort());
    setClock(oldRow!.publish_until!.getTime() + 1);
    expect(await jwksKids()).toEqual([newKid]);
    expect(await listed()).toEqual([
      [newKid, 'active', true],
      [oldKid, 'retired', false],
    ]);
    await expect(client.send(IntrospectToken, { tenant: 'demo', client: svc, token: oldToken })).resolves.toEqual({ active: false });
    expect(await issuedKids()).toEqual(new Set([newKid]));
  });

  it('rotates on schedule and promotes on time, with several replicas and no restart', async () => {
    const [before] = await keyRows('other');
    expect(before!.status).toBe('active');
    // The lazy replicas must not rotate by themselves: only the schedule does.
    setClock(before!.activates_at.getTime() + OTHER_INTERVAL_MS + 1000);
    const otherOld = kidOf(await issue('other'));
    expect(await keyRows('other')).toHaveLength(1);

    // A replica with a running schedule joins (the others keep running; nobody restarts).
    checkIntervalMs = 200;
    await Promise.all([cluster.addReplica(), cluster.addReplica()]);
    const pending = await waitFor(async () => (await keyRows('other')).find((row) => row.status === 'next'), 'the scheduled next key');
    expect(pending.rotation_reason).toBe('scheduled');
    expect(pending.activates_at.getTime() - clock()).toBeGreaterThan(PROPAGATION_MS - 5_000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await keyRows('other')).filter((row) => row.status === 'next')).toHaveLength(1);
    expect(await jwksKids('other')).toEqual([otherOld, pending.kid].sort());
    expect(await issuedKids('other')).toEqual(new Set([otherOld]));

    setClock(pending.activates_at.getTime());
    const event = await waitFor(async () => rotated.find((candidate) => candidate.tenant === 'other'), 'the scheduled activation');
    expect(event).toMatchObject({ kid: pending.kid, previousKid: otherOld, reason: 'scheduled' });
    expect((await keyRows('other')).map((row) => row.status)).toEqual(['retired', 'active']);
    expect(await issuedKids('other')).toEqual(new Set([pending.kid]));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(rotated.filter((candidate) => candidate.tenant === 'other')).toHaveLength(1);
    // Demo's schedule (30 days by default) is not due: its key is untouched.
    expect((await keyRows('demo')).filter((row) => row.status === 'next')).toHaveLength(0);
  });

  it.each([
    ['a device type', 'fleet', DEVICE_LIFETIME_S],
    ['delegated tokens', 'sharing', DELEGATED_LIFETIME_S],
  ])('case=should keep a retired key published as long as %s may live, beyond the tenant default', async (_what, tenant, lifetimeS) => {
    const retiring = kidOf(await issue(tenant))!;
    const { kid, activatesAt } = await client.send(RotateSigningKey, { tenant });
    const activation = Date.parse(activatesAt);
    setClock(activation);
    // At the activation instant the list already says which key signs (it promotes the key if nobody has yet).
    expect(await listed(tenant)).toEqual([
      [kid, 'active', true],
      [retiring, 'retired', true],
    ]);
    expect(await issuedKids(tenant)).toEqual(new Set([kid]));
    const retired = (await keyRows(tenant)).find((row) => row.kid === retiring)!;
    expect(retired.status).toBe('retired');
    expect(retired.publish_until!.getTime()).toBe(activation + lifetimeS * 1000 + SKEW_MS);
    // A token signed at the last instant of the old key lives `lifetimeS`, far past the tenant's 300 s.
    setClock(activation + LIFETIME_S * 1000 + SKEW_MS + 1000);
    expect(await jwksKids(tenant)).toEqual([retiring, kid].sort());
    setClock(activation + lifetimeS * 1000 + SKEW_MS - 1000);
    expect(await jwksKids(tenant)).toEqual([retiring, kid].sort());
    setClock(activation + lifetimeS * 1000 + SKEW_MS + 1);
    expect(await jwksKids(tenant)).toEqual([kid]);
  });
});
