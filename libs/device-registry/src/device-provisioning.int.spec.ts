import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants, TenantDirectory } from '@latchkey/config';
import {
  type Actor,
  AddDeviceCredential,
  AuthenticateDevice,
  BindDeviceOwner,
  BulkProvisionDevices,
  type BulkRowOutcome,
  ChangeDeviceStatus,
  ClaimDevice,
  type ContractError,
  CreateDevice,
  DeviceEventPayload,
  GetDevice,
  IssueClaimCode,
  type NewDevice,
  RevokeDeviceCredential,
} from '@latchkey/contracts';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import pg from 'pg';
import { DeviceAuthentication } from './authentication/device-authentication.js';
import { ClaimCodes } from './claims/claim-codes.js';
import { ClaimThrottle, DEFAULT_CLAIM_THROTTLING } from './claims/claim-throttle.js';
import { DeviceRegistryModule } from './device-registry.module.js';
import { DeviceDatabase } from './device-registry.prisma.js';
import { DeviceStore, type Tx } from './devices/device-store.js';
import { BulkProvisioning } from './provisioning/bulk-provisioning.js';
import { DevicePreparation } from './provisioning/device-preparation.js';

const tenants = parseTenants(`
tenants:
  - id: demo
    deviceTypes:
      - { type: sensor, sharedSecret: true }
      - { type: lock }
  - id: other
    deviceTypes:
      - { type: sensor, sharedSecret: true }
`);

const admin: Actor = { type: 'client', id: 'fleet-admin' };
const AUDIENCE = 'https://auth.example.com/t/demo/oauth2/token';
const THROTTLING = { perUser: { maxFailures: 3, windowSeconds: 600 }, perIp: { maxFailures: 6, windowSeconds: 600 } };

describe('provisioning, claiming and authenticating devices', () => {
  let cluster: ServiceCluster;
  let pool: pg.Pool;
  // The injected clock of both replicas: tests move it, never wait for it.
  let now = Date.UTC(2030, 0, 1, 12, 0, 0);
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  beforeAll(async () => {
    cluster = await startServiceCluster({
      queue: 'device-registry',
      replicas: 2,
      requestTimeoutMs: 10_000,
      module: ({ databaseUrl, messaging }) =>
        DeviceRegistryModule.forRoot({
          tenants,
          database: { kind: 'url', url: databaseUrl, poolSize: 3 },
          messaging,
          publicUrl: 'https://auth.example.com',
          claimCodes: { throttling: THROTTLING },
          clock: () => now,
        }),
    });
    pool = new pg.Pool({ connectionString: cluster.database.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await cluster?.stop();
  });

  const client = () => cluster.client;
  const create = (device: Partial<NewDevice> = {}, tenant = 'demo') => client().send(CreateDevice, { tenant, actor: admin, device: { serial: unique('dev'), type: 'lock', ...device } });
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as ContractError,
    );
  const rowsOf = async (table: string, deviceIds: string[]) => (await pool.query(`SELECT * FROM devices.${table} WHERE device_id = ANY($1::uuid[])`, [deviceIds])).rows;
  const outboxOf = async (deviceIds: string[]) =>
    (await pool.query<{ id: string; subject: string; payload: unknown }>(`SELECT id, subject, payload FROM devices.outbox_event WHERE payload->>'deviceId' = ANY($1) ORDER BY seq`, [deviceIds])).rows;

  describe('bulk', () => {
    it('reports every row, creates the good ones whole and nothing of the others', async () => {
      const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
      const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
      const existing = (await create({ serial: 'bulk-existing' })).device;
      const gone = (await create({ serial: 'bulk-gone' })).device;
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: gone.id, action: 'decommission' });

      const rows: unknown[] = [
        { serial: 'bulk-1', type: 'lock' },
        { serial: 'bulk-2', type: 'lock', activate: true, credentials: [{ kind: 'jwk', jwk }], claimCode: true, attributes: { site: 'depot' } },
        { serial: 'bulk-3' },
        42,
        { serial: 'bulk-1', type: 'sensor' },
        { serial: 'bulk-existing', type: 'lock' },
        { serial: 'bulk-gone', type: 'lock' },
        { serial: 'bulk-4', type: 'sensor', credentials: [{ kind: 'secret' }] },
        { serial: 'bulk-5', type: 'lock', credentials: [{ kind: 'secret' }] },
        { serial: 'bulk-6', type: 'lock', credentials: [{ kind: 'jwk', jwk: privateJwk }] },
        { serial: 'bulk-7', type: 'lock', ownerId: 'user-7' },
        { serial: 'bulk-8', type: 'lock', model: 'nul\u0000byte' },
        { serial: 'bulk-gone', type: 'sensor' },
      ];
      const { rows: report } = await client().send(BulkProvisionDevices, { tenant: 'demo', actor: admin, rows, firstRow: 1000 });
      const created = (row: number) => report.find((r) => r.row === row) as Extract<BulkRowOutcome, { outcome: 'created' }>;

      expect(report).toEqual([
        { row: 1000, outcome: 'created', serial: 'bulk-1', deviceId: expect.any(String) },
        { row: 1001, outcome: 'created', serial: 'bulk-2', deviceId: expect.any(String), claimCode: expect.objectContaining({ code: expect.stringMatching(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/) }) },
        { row: 1002, outcome: 'rejected', serial: 'bulk-3', reason: expect.stringContaining('type') },
        { row: 1003, outcome: 'rejected', serial: null, reason: expect.any(String) },
        { row: 1004, outcome: 'skipped', serial: 'bulk-1', deviceId: created(1000).deviceId, reason: 'duplicate of row 1000' },
        { row: 1005, outcome: 'skipped', serial: 'bulk-existing', deviceId: existing.id, reason: 'a device with serial bulk-existing already exists' },
        { row: 1006, outcome: 'rejected', serial: 'bulk-gone', reason: 'serial bulk-gone belonged to a decommissioned device and cannot be reused' },
        { row: 1007, outcome: 'created', serial: 'bulk-4', deviceId: expect.any(String), secrets: expect.any(Object) },
        { row: 1008, outcome: 'rejected', serial: 'bulk-5', reason: expect.stringContaining('may not use a shared secret') },
        { row: 1009, outcome: 'rejected', serial: 'bulk-6', reason: expect.stringContaining('private key members are not accepted') },
        { row: 1010, outcome: 'created', serial: 'bulk-7', deviceId: expect.any(String) },
        { row: 1011, outcome: 'rejected', serial: 'bulk-8', reason: expect.stringContaining('NUL') },
        { row: 1012, outcome: 'rejected', serial: 'bulk-gone', reason: 'duplicate of row 1006: serial bulk-gone belonged to a decommissioned device and cannot be reused' },
      ]);

      const ids = [1000, 1001, 1007, 1010].map((row) => created(row).deviceId);
      const devices = (await pool.query(`SELECT id, serial, status, owner_id FROM devices.device WHERE tenant = 'demo' AND serial LIKE 'bulk-%' ORDER BY serial`)).rows;
      expect(devices.map((d) => [d.serial, d.status, d.owner_id])).toEqual([
        ['bulk-1', 'provisioned', null],
        ['bulk-2', 'active', null],
        ['bulk-4', 'provisioned', null],
        ['bulk-7', 'provisioned', 'user-7'],
        ['bulk-existing', 'provisioned', null],
        ['bulk-gone', 'decommissioned', null],
      ]);
      expect((await rowsOf('device_credential', ids)).map((c) => c.kind).sort()).toEqual(['jwk', 'secret']);
      expect(await rowsOf('claim_code', ids)).toHaveLength(1);
      expect((await rowsOf('device_audit', ids)).map((a) => [a.event, a.actor_type, a.actor_id])).toEqual(ids.map(() => ['created', 'client', 'fleet-admin']));
      const outbox = await outboxOf(ids);
      expect(outbox.map((row) => row.subject)).toEqual(ids.map(() => 'latchkey.events.device.created'));
      for (const row of outbox) expect(DeviceEventPayload.parse(row.payload).eventId).toBe(row.id);

      // The secret shown is the one whose hash is stored; the claim code claims the device.
      const secrets = Object.entries(created(1007).secrets!);
      expect(secrets).toHaveLength(1);
      const [credentialId, secret] = secrets[0]!;
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: created(1007).deviceId, action: 'activate' });
      const authenticated = await client().send(AuthenticateDevice, { tenant: 'demo', deviceId: created(1007).deviceId, proof: { method: 'client_secret', secret } });
      expect(authenticated.device.credentialId).toBe(credentialId);
      const claimed = await client().send(ClaimDevice, { tenant: 'demo', userId: 'bulk-owner', code: created(1001).claimCode!.code, clientIp: '203.0.113.200' });
      expect(claimed.device.ownerId).toBe('bulk-owner');
    });

    it('retries row by row when the batch fails: a row taken meanwhile is skipped, the others are created whole', async () => {
      const db = new DeviceDatabase({ kind: 'url', url: cluster.database.url, poolSize: 2 });
      let writes = 0;
      // The batch's transaction fails after a concurrent writer took one of its serials.
      class FirstBatchFails extends DeviceStore {
        override async write<R>(work: (tx: Tx) => Promise<R>): Promise<R> {
          if (writes++ === 0) {
            await pool.query(`INSERT INTO devices.device (id, tenant, serial, type, updated_at) VALUES ($1, 'demo', 'race-2', 'lock', now())`, [randomUUID()]);
            throw new Error('connection reset');
          }
          return super.write(work);
        }
      }
      try {
        const store = new FirstBatchFails(db, { kick: () => undefined });
        const directory = new TenantDirectory(tenants);
        const claimCodes = new ClaimCodes(store, directory, new ClaimThrottle(db, DEFAULT_CLAIM_THROTTLING, () => now), 'https://auth.example.com', () => now);
        const bulk = new BulkProvisioning(store, directory, new DevicePreparation(directory, claimCodes, () => now));
        const report = await bulk.provision('demo', admin, ['race-1', 'race-2', 'race-3'].map((serial) => ({ serial, type: 'sensor', credentials: [{ kind: 'secret' }], claimCode: true })), 0);
        const racer = (await pool.query(`SELECT id FROM devices.device WHERE tenant = 'demo' AND serial = 'race-2'`)).rows[0].id;
        expect(report.map((r) => [r.outcome, r.serial, 'deviceId' in r ? r.deviceId === racer : null])).toEqual([
          ['created', 'race-1', false],
          ['skipped', 'race-2', true],
          ['created', 'race-3', false],
        ]);
        expect(writes).toBe(4);
        const ids = report.filter((r) => r.outcome === 'created').map((r) => (r as { deviceId: string }).deviceId);
        for (const table of ['device_credential', 'claim_code', 'device_audit']) expect(await rowsOf(table, [...ids, racer])).toHaveLength(2);
        expect(await outboxOf([...ids, racer])).toHaveLength(2);
      } finally {
        await db.close();
      }
    });
  });

  describe('claim codes', () => {
    let ip = 0;
    const freshIp = () => `198.51.100.${++ip}`;
    const claim = (code: string, userId = unique('user'), clientIp = freshIp()) => client().send(ClaimDevice, { tenant: 'demo', userId, code, clientIp });
    const wrongCode = () => 'ZZZZ-ZZZZ-ZZZZ-' + String(++counter).padStart(4, '0').slice(-4);
    const NOT_VALID = { code: 'invalid_grant', message: 'the claim code is not valid' };
    const claimable = async () => {
      const { device, claimCode } = await create({ claimCode: true });
      return { device, code: claimCode!.code };
    };

    it('lets a user claim an unowned device once, however the code is typed', async () => {
      const { device, code } = await claimable();
      const typed = ` ${code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l')} `;
      const { device: claimed } = await claim(typed, 'user-adam');
      expect(claimed).toEqual(expect.objectContaining({ id: device.id, ownerId: 'user-adam' }));
      const events = await outboxOf([device.id]);
      expect(events.map((e) => e.subject)).toEqual(['latchkey.events.device.created', 'latchkey.events.device.claimed']);
      expect(DeviceEventPayload.parse(events[1]!.payload)).toEqual(expect.objectContaining({ ownerId: 'user-adam', actor: { type: 'user', id: 'user-adam' } }));
      expect((await rowsOf('device_audit', [device.id])).map((a) => [a.event, a.actor_id, a.details])).toEqual([
        ['created', 'fleet-admin', expect.any(Object)],
        ['claimed', 'user-adam', { via: 'claim_code' }],
      ]);
      expect((await failureOf(claim(code, 'user-bianca'))).toEnvelope()).toEqual(NOT_VALID);
    });

    it('puts the claim page with the code in the QR payload and keeps only a hash', async () => {
      const { device, claimCode } = await create({ claimCode: true });
      expect(claimCode).toEqual({ code: expect.any(String), expiresAt: new Date(now + 7 * 86_400_000).toISOString(), qrPayload: `https://auth.example.com/t/demo/claim?code=${claimCode!.code}` });
      expect(JSON.stringify(await rowsOf('claim_code', [device.id]))).not.toContain(claimCode!.code.replace(/-/g, ''));
    });

    it('case=should refuse an expired code, and any code but the newest', async () => {
      const { device, code: first } = await claimable();
      const { claimCode: second } = await client().send(IssueClaimCode, { tenant: 'demo', actor: admin, deviceId: device.id, ttlSeconds: 60 });
      expect((await failureOf(claim(first))).toEnvelope()).toEqual(NOT_VALID);
      now += 61_000;
      expect((await failureOf(claim(second.code))).toEnvelope()).toEqual(NOT_VALID);
      const { claimCode: third } = await client().send(IssueClaimCode, { tenant: 'demo', actor: admin, deviceId: device.id });
      expect((await claim(third.code)).device.ownerId).not.toBeNull();
      // Owned now: no more codes for it.
      expect((await failureOf(client().send(IssueClaimCode, { tenant: 'demo', actor: admin, deviceId: device.id }))).code).toBe('conflict');
    });

    it('case=should refuse every claim of a user past the limit, the right code too, until the window ends', async () => {
      const { device, code } = await claimable();
      for (let i = 0; i < 3; i++) expect((await failureOf(claim(wrongCode(), 'user-guesser'))).toEnvelope()).toEqual(NOT_VALID);
      expect((await failureOf(claim('not even a code', 'user-guesser'))).toEnvelope()).toEqual(NOT_VALID);
      expect((await failureOf(claim(code, 'user-guesser'))).toEnvelope()).toEqual(NOT_VALID);
      expect((await client().send(GetDevice, { tenant: 'demo', deviceId: device.id })).device.ownerId).toBeNull();
      now += 601_000;
      expect((await claim(code, 'user-guesser')).device.ownerId).toBe('user-guesser');
    });

    it('case=should refuse every claim from an address past the limit, whoever the user', async () => {
      const { code } = await claimable();
      const address = '2001:db8:1:2:aaaa::1';
      for (let i = 0; i < 6; i++) await failureOf(claim(wrongCode(), unique('user'), i % 2 ? address : '2001:db8:1:2:bbbb::7'));
      // The same /64.
      expect((await failureOf(claim(code, unique('user'), '2001:0db8:0001:0002::9'))).toEnvelope()).toEqual(NOT_VALID);
      expect((await claim(code, unique('user'), '2001:db8:1:3::1')).device.ownerId).not.toBeNull();
    });

    it('case=should let exactly one of two concurrent claims win', async () => {
      const { device, code } = await claimable();
      const results = await Promise.allSettled([claim(code, 'user-fast'), claim(code, 'user-faster')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ device: { ownerId: string } }>).value.device.ownerId;
      expect((await client().send(GetDevice, { tenant: 'demo', deviceId: device.id })).device.ownerId).toBe(winner);
      expect((await outboxOf([device.id])).filter((e) => e.subject === 'latchkey.events.device.claimed')).toHaveLength(1);
    });

    it('case=should refuse the code of a device bound meanwhile, or decommissioned, or of another tenant', async () => {
      const bound = await claimable();
      await client().send(BindDeviceOwner, { tenant: 'demo', deviceId: bound.device.id, userId: 'user-tv' });
      expect((await failureOf(claim(bound.code))).toEnvelope()).toEqual(NOT_VALID);
      const gone = await claimable();
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: gone.device.id, action: 'decommission' });
      expect((await failureOf(claim(gone.code))).toEnvelope()).toEqual(NOT_VALID);
      const foreign = await claimable();
      expect((await failureOf(client().send(ClaimDevice, { tenant: 'other', userId: unique('user'), code: foreign.code, clientIp: freshIp() }))).toEnvelope()).toEqual(NOT_VALID);
    });
  });

  describe('binding an owner (device flow approval)', () => {
    it('binds the first user only, once, with one `claimed` event', async () => {
      const { device } = await create();
      const first = await client().send(BindDeviceOwner, { tenant: 'demo', deviceId: device.id, userId: 'user-1' });
      expect(first).toEqual({ device: expect.objectContaining({ ownerId: 'user-1' }), bound: true });
      const second = await client().send(BindDeviceOwner, { tenant: 'demo', deviceId: device.id, userId: 'user-2' });
      expect(second).toEqual({ device: expect.objectContaining({ ownerId: 'user-1' }), bound: false });
      const events = await outboxOf([device.id]);
      expect(events.map((e) => e.subject)).toEqual(['latchkey.events.device.created', 'latchkey.events.device.claimed']);
      expect(DeviceEventPayload.parse(events[1]!.payload).ownerId).toBe('user-1');
      expect((await rowsOf('device_audit', [device.id])).map((a) => a.event)).toEqual(['created', 'claimed']);
    });
  });

  describe('authentication', () => {
    const FAILED = { code: 'invalid_client', message: 'client authentication failed' };
    const keyPair = async (alg = 'ES256') => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      return { jwk: await exportJWK(publicKey), privateKey, alg };
    };
    type Key = Awaited<ReturnType<typeof keyPair>>;
    const assertion = (key: Key, deviceId: string, claims: { aud?: string; jti?: string; exp?: number; iss?: string } = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: key.alg })
        .setIssuer(claims.iss ?? deviceId)
        .setSubject(claims.iss ?? deviceId)
        .setAudience(claims.aud ?? AUDIENCE)
        .setJti(claims.jti ?? randomUUID())
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(claims.exp ?? Math.floor(now / 1000) + 60)
        .sign(key.privateKey);
    const withKey = async (key: Key, deviceId: string, tenant = 'demo', claims = {}) =>
      client().send(AuthenticateDevice, { tenant, deviceId, proof: { method: 'private_key_jwt', assertion: await assertion(key, deviceId, claims), audiences: [AUDIENCE] } });
    const refused = async (attempt: Promise<unknown>) => expect((await failureOf(attempt)).toEnvelope()).toEqual(FAILED);
    const activeDevice = async (keys: Key[], device: Partial<NewDevice> = {}) =>
      (await create({ activate: true, credentials: keys.map((key) => ({ kind: 'jwk' as const, jwk: key.jwk as Record<string, unknown> })), ...device })).device;

    it('rotates keys with overlap: both keys work, the revoked one stops, the other goes on', async () => {
      const [oldKey, newKey] = [await keyPair('ES256'), await keyPair('EdDSA')];
      const device = await activeDevice([oldKey], { ownerId: 'user-owner' });
      const { credential: added } = await client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk: newKey.jwk as JWK & Record<string, unknown> } });
      const viaOld = await withKey(oldKey, device.id);
      expect(viaOld.device).toEqual({ id: device.id, type: 'lock', ownerId: 'user-owner', credentialId: expect.any(String) });
      expect((await withKey(newKey, device.id)).device.credentialId).toBe(added.id);

      await client().send(RevokeDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credentialId: viaOld.device.credentialId });
      await refused(withKey(oldKey, device.id));
      expect((await withKey(newKey, device.id)).device.credentialId).toBe(added.id);
    });

    it('case=should refuse an expired key, and accept an RSA one', async () => {
      const key = await keyPair('RS256');
      const { device } = await create({ activate: true, credentials: [{ kind: 'jwk', jwk: key.jwk as Record<string, unknown>, expiresAt: new Date(now + 120_000).toISOString() }] });
      expect((await withKey(key, device.id)).device.id).toBe(device.id);
      now += 121_000;
      await refused(withKey(key, device.id));
    });

    it('case=should refuse a device that is not active', async () => {
      const key = await keyPair();
      const provisioned = (await create({ credentials: [{ kind: 'jwk', jwk: key.jwk as Record<string, unknown> }] })).device;
      await refused(withKey(key, provisioned.id));
      const device = await activeDevice([key]);
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: device.id, action: 'suspend' });
      await refused(withKey(key, device.id));
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: device.id, action: 'reactivate' });
      expect((await withKey(key, device.id)).device.id).toBe(device.id);
      await client().send(ChangeDeviceStatus, { tenant: 'demo', actor: admin, deviceId: device.id, action: 'decommission' });
      await refused(withKey(key, device.id));
    });

    it('case=should refuse a replayed assertion, a wrong audience, another device, another tenant, an unknown tenant', async () => {
      const key = await keyPair();
      const device = await activeDevice([key]);
      const other = await activeDevice([await keyPair()]);
      const jti = randomUUID();
      expect((await withKey(key, device.id, 'demo', { jti })).device.id).toBe(device.id);
      await refused(withKey(key, device.id, 'demo', { jti }));
      await refused(withKey(key, device.id, 'demo', { aud: 'https://elsewhere.example/token' }));
      await refused(withKey(key, device.id, 'demo', { exp: Math.floor(now / 1000) + 3600 }));
      // Signed by this device's key, presented as the other device (and claiming to be it).
      await refused(withKey(key, other.id, 'demo'));
      await refused(withKey(key, device.id, 'other'));
      await refused(withKey(key, device.id, 'nowhere'));
      await refused(withKey(key, randomUUID()));
      await refused(client().send(AuthenticateDevice, { tenant: 'demo', deviceId: device.id, proof: { method: 'private_key_jwt', assertion: 'not.a.jwt', audiences: [AUDIENCE] } }));
    });

    it('checks a shared secret only against secrets, in its own tenant, while it is active', async () => {
      const { device, credentials, secrets } = await create({ type: 'sensor', activate: true, credentials: [{ kind: 'secret' }] });
      const secret = secrets![credentials[0]!.id]!;
      const bySecret = (value: string, deviceId = device.id, tenant = 'demo') => client().send(AuthenticateDevice, { tenant, deviceId, proof: { method: 'client_secret', secret: value } });
      expect((await bySecret(secret)).device).toEqual({ id: device.id, type: 'sensor', ownerId: null, credentialId: credentials[0]!.id });
      await refused(bySecret(secret.slice(1)));
      await refused(bySecret(secret, device.id, 'other'));
      // A key's thumbprint is no secret.
      const keyed = await activeDevice([await keyPair()], { type: 'sensor' });
      const read = await client().send(GetDevice, { tenant: 'demo', deviceId: keyed.id });
      await refused(bySecret(read.credentials[0]!.thumbprint!, keyed.id));
      await client().send(RevokeDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credentialId: credentials[0]!.id });
      await refused(bySecret(secret));
    });

    it('case=should refuse a secret once the type may no longer use one', async () => {
      const { device, credentials, secrets } = await create({ type: 'sensor', activate: true, credentials: [{ kind: 'secret' }] });
      const secret = secrets![credentials[0]!.id]!;
      const db = new DeviceDatabase({ kind: 'url', url: cluster.database.url, poolSize: 1 });
      try {
        const proof = { method: 'client_secret', secret } as const;
        expect((await new DeviceAuthentication(db, new TenantDirectory(tenants), () => now).authenticate('demo', device.id, proof)).credentialId).toBe(credentials[0]!.id);
        const stricter = new TenantDirectory(parseTenants('tenants:\n  - id: demo\n    deviceTypes: [{ type: sensor }]\n'));
        await expect(new DeviceAuthentication(db, stricter, () => now).authenticate('demo', device.id, proof)).rejects.toThrow('client authentication failed');
      } finally {
        await db.close();
      }
    });

    it('records last seen at most once a minute', async () => {
      const key = await keyPair();
      const device = await activeDevice([key]);
      const lastSeen = async () => (await client().send(GetDevice, { tenant: 'demo', deviceId: device.id })).device.lastSeenAt;
      await withKey(key, device.id);
      const first = new Date(now).toISOString();
      expect(await lastSeen()).toBe(first);
      now += 30_000;
      await withKey(key, device.id);
      expect(await lastSeen()).toBe(first);
      now += 31_000;
      await withKey(key, device.id);
      expect(await lastSeen()).toBe(new Date(now).toISOString());
    });

    it('forgets used jtis once their assertions have expired', async () => {
      const key = await keyPair();
      const device = await activeDevice([key]);
      await withKey(key, device.id);
      const db = new DeviceDatabase({ kind: 'url', url: cluster.database.url, poolSize: 1 });
      try {
        const count = async () => Number((await pool.query(`SELECT count(*) FROM devices.assertion_jti WHERE device_id = $1`, [device.id])).rows[0].count);
        expect(await count()).toBe(1);
        await new DeviceAuthentication(db, new TenantDirectory(tenants), () => now).sweep('demo');
        expect(await count()).toBe(1);
        await new DeviceAuthentication(db, new TenantDirectory(tenants), () => now + 91_000).sweep('demo');
        expect(await count()).toBe(0);
      } finally {
        await db.close();
      }
    });
  });
});
