import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  FindDeviceBySerial,
  RecordDeviceCommand,
  type Actor,
  AddDeviceCredential,
  BindDeviceOwner,
  ChangeDeviceStatus,
  ContractError,
  CreateDevice,
  DEVICE_ACTIONS,
  DEVICE_STATUSES,
  type DeviceAction,
  DeviceEventPayload,
  DeviceHealth,
  DeviceSuspended,
  type DeviceStatus,
  GetDevice,
  GetDeviceAudit,
  IssueClaimCode,
  ListDevices,
  type NewDevice,
  RevokeDeviceCredential,
  UpdateDevice,
} from '@latchkey/contracts';
import { sha256Hex } from '@latchkey/crypto';
import { createEventStream, type EventStream } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import pg from 'pg';
import { DeviceRegistryModule } from './device-registry.module.js';
import { DeviceDatabase } from './device-registry.prisma.js';
import { DeviceReconciler } from './devices/device-reconciler.js';
import { DeviceStore } from './devices/device-store.js';

const tenants = parseTenants(`
tenants:
  - id: demo
    deviceTypes:
      - { type: sensor, sharedSecret: true }
      - { type: bike-lock }
    devices:
      - { serial: config-lock-1, type: bike-lock, model: Latch One, attributes: { site: hq } }
  - id: other
  - id: fleet
`);

const admin: Actor = { type: 'user', id: 'admin-1' };
const EVENT_OF: Record<DeviceAction, string> = { activate: 'activated', suspend: 'suspended', reactivate: 'reactivated', decommission: 'decommissioned' };
const LEGAL: Record<string, DeviceStatus> = {
  'provisioned/activate': 'active',
  'active/suspend': 'suspended',
  'suspended/reactivate': 'active',
  'provisioned/decommission': 'decommissioned',
  'active/decommission': 'decommissioned',
  'suspended/decommission': 'decommissioned',
};

describe('device registry over NATS and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let pool: pg.Pool;
  let serials = 0;

  beforeAll(async () => {
    cluster = await startServiceCluster({
      queue: 'device-registry',
      replicas: 2,
      requestTimeoutMs: 10_000,
      module: ({ databaseUrl, messaging }) =>
        DeviceRegistryModule.forRoot({ tenants, database: { kind: 'url', url: databaseUrl, poolSize: 3 }, messaging, publicUrl: 'https://auth.example.com/' }),
    });
    pool = new pg.Pool({ connectionString: cluster.database.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await cluster?.stop();
  });

  const client = () => cluster.client;
  const create = (device: Partial<NewDevice> = {}, tenant = 'demo') =>
    client().send(CreateDevice, { tenant, actor: admin, device: { serial: `dev-${++serials}`, type: 'bike-lock', ...device } });
  const act = (deviceId: string, action: DeviceAction, tenant = 'demo', reason?: string) => client().send(ChangeDeviceStatus, { tenant, actor: admin, deviceId, action, ...(reason ? { reason } : {}) });
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as ContractError,
    );
  const outboxOf = async (deviceId: string) =>
    (await pool.query<{ id: string; subject: string; payload: unknown }>(`SELECT id, subject, payload FROM devices.outbox_event WHERE payload->>'deviceId' = $1 ORDER BY seq`, [deviceId])).rows;
  const auditOf = async (deviceId: string) => (await pool.query(`SELECT * FROM devices.device_audit WHERE device_id = $1 ORDER BY id`, [deviceId])).rows;
  const publicJwk = async (alg = 'ES256') => exportJWK((await generateKeyPair(alg, { extractable: true })).publicKey);

  /** A fresh device in `status`, reached through the lifecycle. */
  const deviceIn = async (status: DeviceStatus) => {
    const { device } = await create({ activate: status === 'active' || status === 'suspended' });
    if (status === 'suspended') await act(device.id, 'suspend');
    if (status === 'decommissioned') await act(device.id, 'decommission');
    return device.id;
  };

  describe('lifecycle', () => {
    const cases = DEVICE_STATUSES.flatMap((from) => DEVICE_ACTIONS.map((action) => [from, action] as [DeviceStatus, DeviceAction]));

    it.each(cases)('case=%s device, action %s', async (from, action) => {
      const deviceId = await deviceIn(from);
      const [outboxBefore, auditBefore] = [await outboxOf(deviceId), await auditOf(deviceId)];
      const to = LEGAL[`${from}/${action}`];
      if (!to) {
        const error = await failureOf(act(deviceId, action));
        expect(error.toEnvelope()).toEqual({ code: 'conflict', message: expect.stringContaining(`cannot ${action} a ${from} device`), details: { from, action } });
        expect((await client().send(GetDevice, { tenant: 'demo', deviceId })).device.status).toBe(from);
        expect(await outboxOf(deviceId)).toHaveLength(outboxBefore.length);
        expect(await auditOf(deviceId)).toHaveLength(auditBefore.length);
        return;
      }
      const { device } = await act(deviceId, action, 'demo', `because ${action}`);
      expect(device.status).toBe(to);
      // Exactly one event and one audit record, saying the same thing.
      const outbox = (await outboxOf(deviceId)).slice(outboxBefore.length);
      expect(outbox).toHaveLength(1);
      expect(outbox[0]!.subject).toBe(`latchkey.events.device.${EVENT_OF[action]}`);
      expect(DeviceEventPayload.parse(outbox[0]!.payload)).toEqual({
        eventId: outbox[0]!.id,
        tenant: 'demo',
        deviceId,
        serial: device.serial,
        type: 'bike-lock',
        actor: admin,
        at: expect.any(String),
        fromStatus: from,
        toStatus: to,
        ownerId: null,
        reason: `because ${action}`,
      });
      const audit = (await auditOf(deviceId)).slice(auditBefore.length);
      expect(audit).toEqual([
        expect.objectContaining({ event: EVENT_OF[action], actor_type: 'user', actor_id: 'admin-1', from_status: from, to_status: to, reason: `because ${action}` }),
      ]);
    });

    it('case=should destroy the credentials of a decommissioned device and keep its serial taken', async () => {
      const jwk = await publicJwk();
      const { device, credentials } = await create({
        type: 'sensor',
        activate: true,
        claimCode: true,
        credentials: [{ kind: 'jwk', jwk }, { kind: 'secret' }, { kind: 'x509', thumbprint: 'ab'.repeat(32) }],
      });
      await act(device.id, 'decommission', 'demo', 'stolen');

      const { rows } = await pool.query(`SELECT status, revoked_at, jwk, thumbprint, secret_hash FROM devices.device_credential WHERE device_id = $1`, [device.id]);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toEqual({ status: 'revoked', revoked_at: expect.any(Date), jwk: null, thumbprint: null, secret_hash: null });
      expect((await pool.query(`SELECT 1 FROM devices.claim_code WHERE device_id = $1`, [device.id])).rowCount).toBe(0);
      const read = await client().send(GetDevice, { tenant: 'demo', deviceId: device.id });
      expect(read.credentials.map((c) => [c.id, c.status, c.jwk, c.thumbprint]).sort()).toEqual(credentials.map((c) => [c.id, 'revoked', null, null]).sort());
      const decommissioned = (await outboxOf(device.id)).at(-1)!;
      expect(decommissioned.subject).toBe('latchkey.events.device.decommissioned');

      const reuse = await failureOf(create({ serial: device.serial }));
      expect(reuse.code).toBe('conflict');
      expect(reuse.message).toBe(`serial ${device.serial} belonged to a decommissioned device and cannot be reused`);

      const newKey = await publicJwk();
      const changes = [
        [failureOf(client().send(UpdateDevice, { tenant: 'demo', actor: admin, deviceId: device.id, changes: { location: 'bin' } })), 'update'],
        [failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk: newKey } })), 'add-credential'],
        [failureOf(client().send(IssueClaimCode, { tenant: 'demo', actor: admin, deviceId: device.id })), 'issue-claim-code'],
        [failureOf(client().send(BindDeviceOwner, { tenant: 'demo', deviceId: device.id, userId: 'user-1' })), 'bind-owner'],
      ] as const;
      for (const [attempt, action] of changes) {
        expect((await attempt).toEnvelope()).toEqual({ code: 'conflict', message: expect.stringMatching(/decommissioning is final/), details: { from: 'decommissioned', action } });
      }
    });
  });

  describe('creating', () => {
    it('writes the device, one audit record and one `created` event in one go', async () => {
      const { device, credentials } = await create({ model: 'Latch Two', location: 'dock 4', attributes: { site: 'north', level: 2 }, reason: 'first batch' });
      expect(device).toEqual(
        expect.objectContaining({ tenant: 'demo', type: 'bike-lock', model: 'Latch Two', location: 'dock 4', attributes: { site: 'north', level: 2 }, ownerId: null, status: 'provisioned', lastSeenAt: null }),
      );
      expect(credentials).toEqual([]);
      const outbox = await outboxOf(device.id);
      expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.device.created']);
      expect(DeviceEventPayload.parse(outbox[0]!.payload)).toEqual(expect.objectContaining({ eventId: outbox[0]!.id, fromStatus: null, toStatus: 'provisioned', reason: 'first batch', actor: admin }));
      expect(await auditOf(device.id)).toEqual([expect.objectContaining({ event: 'created', to_status: 'provisioned', reason: 'first batch' })]);
    });

    it('case=should refuse a serial that is taken, naming the device', async () => {
      const { device } = await create();
      const error = await failureOf(create({ serial: device.serial, type: 'sensor' }));
      expect(error.toEnvelope()).toEqual({ code: 'conflict', message: `a device with serial ${device.serial} already exists`, details: { serial: device.serial, deviceId: device.id } });
      // The same serial in another tenant is another device.
      expect((await create({ serial: device.serial }, 'other')).device.tenant).toBe('other');
    });

    it('case=should refuse a claim code for a device that has an owner', async () => {
      expect((await failureOf(create({ ownerId: 'user-1', claimCode: true }))).code).toBe('validation_failed');
    });

    it('case=should answer tenant_not_found for a tenant that is not configured', async () => {
      expect((await failureOf(create({}, 'nowhere'))).code).toBe('tenant_not_found');
    });
  });

  describe('credentials', () => {
    it('keys a JWK by its RFC 7638 thumbprint unless it names its kid', async () => {
      const [first, second] = [await publicJwk('ES256'), await publicJwk('EdDSA')];
      const { credentials } = await create({ credentials: [{ kind: 'jwk', jwk: first }, { kind: 'jwk', jwk: { ...second, kid: 'lock-key-2' } }] });
      const thumbprint = await calculateJwkThumbprint(first as JWK);
      expect(credentials[0]).toEqual(expect.objectContaining({ kind: 'jwk', status: 'active', kid: thumbprint, thumbprint, jwk: { ...first, kid: thumbprint } }));
      expect(credentials[1]).toEqual(expect.objectContaining({ kid: 'lock-key-2', thumbprint: await calculateJwkThumbprint(second as JWK) }));
    });

    it.each([
      ['a private key', async () => ({ ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)) })],
      ['an RSA key of 1024 bits', async () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })],
      ['a P-384 key', async () => exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey)],
      ['a symmetric key', async () => ({ kty: 'oct', k: 'c2VjcmV0' })],
    ])('case=should refuse %s as invalid_request', async (_name, makeKey) => {
      const { device } = await create();
      const jwk = (await makeKey()) as Record<string, unknown>;
      const error = await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk } }));
      expect(error.code).toBe('invalid_request');
      expect(await outboxOf(device.id)).toHaveLength(1);
    });

    it('case=should refuse a JWK whose point is not on its curve', async () => {
      const jwk = await publicJwk();
      const error = await failureOf(create({ credentials: [{ kind: 'jwk', jwk: { ...jwk, x: jwk.y } }] }));
      expect(error.toEnvelope()).toEqual({ code: 'validation_failed', message: 'the JWK is not a usable public key' });
    });

    it('stores an X.509 thumbprint in one form, whatever form it was given in', async () => {
      const digest = Buffer.from('00ff'.repeat(16), 'hex');
      const { device, credentials } = await create({ credentials: [{ kind: 'x509', thumbprint: [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':') }] });
      expect(credentials[0]!.thumbprint).toBe(digest.toString('base64url'));
      // The same certificate in other spellings is the same credential.
      for (const spelling of [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')]) {
        const error = await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'x509', thumbprint: spelling } }));
        expect(error.code).toBe('conflict');
      }
      const short = await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'x509', thumbprint: 'ab'.repeat(31) + 'x' } }));
      expect(short.code).toBe('validation_failed');
    });

    it('case=should generate a shared secret only for a type the tenants file allows, show it once and keep its hash', async () => {
      const refused = await failureOf(create({ type: 'bike-lock', credentials: [{ kind: 'secret' }] }));
      expect(refused.toEnvelope()).toEqual({ code: 'validation_failed', message: expect.stringContaining('devices of type bike-lock may not use a shared secret') });

      const { device, credentials, secrets } = await create({ type: 'sensor', credentials: [{ kind: 'secret' }] });
      const secret = secrets![credentials[0]!.id]!;
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { rows } = await pool.query(`SELECT secret_hash FROM devices.device_credential WHERE id = $1`, [credentials[0]!.id]);
      expect(rows[0].secret_hash).toBe(sha256Hex(secret));
      expect(JSON.stringify(await client().send(GetDevice, { tenant: 'demo', deviceId: device.id }))).not.toContain(secret);
      const added = await client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'secret' } });
      expect(added.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('adds and revokes keys, one event each; a key comes once per device; revoking twice changes nothing', async () => {
      const jwk = await publicJwk();
      const { device } = await create({ activate: true });
      const { credential } = await client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk }, reason: 'rotation' });
      expect((await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk } }))).code).toBe('conflict');
      // Another device may hold the same public key.
      expect((await create({ credentials: [{ kind: 'jwk', jwk }] })).credentials).toHaveLength(1);

      const revoked = await client().send(RevokeDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credentialId: credential.id, reason: 'old key' });
      expect(revoked.credential).toEqual(expect.objectContaining({ id: credential.id, status: 'revoked', revokedAt: expect.any(String), jwk: credential.jwk }));
      const again = await client().send(RevokeDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credentialId: credential.id });
      expect(again.credential).toEqual(revoked.credential);
      // A revoked key does not come back.
      expect((await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'jwk', jwk } }))).code).toBe('conflict');

      const outbox = await outboxOf(device.id);
      expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.device.created', 'latchkey.events.device.credential_added', 'latchkey.events.device.credential_revoked']);
      expect(outbox.slice(1).map((row) => DeviceEventPayload.parse(row.payload).credentialId)).toEqual([credential.id, credential.id]);
      expect((await auditOf(device.id)).map((row) => [row.event, row.reason])).toEqual([
        ['created', null],
        ['credential_added', 'rotation'],
        ['credential_revoked', 'old key'],
      ]);
    });

    it('case=should refuse an expiry in the past, and a credential of another device', async () => {
      const { device } = await create();
      const past = await failureOf(client().send(AddDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credential: { kind: 'x509', thumbprint: 'cd'.repeat(32), expiresAt: '2001-01-01T00:00:00Z' } }));
      expect(past.code).toBe('validation_failed');
      const other = await create({ credentials: [{ kind: 'x509', thumbprint: 'ef'.repeat(32) }] });
      const foreign = await failureOf(client().send(RevokeDeviceCredential, { tenant: 'demo', actor: admin, deviceId: device.id, credentialId: other.credentials[0]!.id }));
      expect(foreign.toEnvelope()).toEqual({ code: 'not_found', message: 'no such credential' });
    });
  });

  describe('updating', () => {
    it('applies attributes as a merge patch and records what changed; a change to nothing records nothing', async () => {
      const { device } = await create({ model: 'Old', attributes: { site: 'north', colour: 'red' } });
      const { device: updated } = await client().send(UpdateDevice, {
        tenant: 'demo',
        actor: admin,
        deviceId: device.id,
        changes: { model: null, firmwareVersion: '2.1.0', attributes: { colour: null, level: 3 } },
        reason: 'inventory',
      });
      expect(updated).toEqual(expect.objectContaining({ model: null, firmwareVersion: '2.1.0', attributes: { site: 'north', level: 3 } }));
      await client().send(UpdateDevice, { tenant: 'demo', actor: admin, deviceId: device.id, changes: { firmwareVersion: '2.1.0' } });

      const outbox = await outboxOf(device.id);
      expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.device.created', 'latchkey.events.device.updated']);
      const audit = await auditOf(device.id);
      expect(audit).toHaveLength(2);
      expect(audit[1]).toEqual(
        expect.objectContaining({
          event: 'updated',
          reason: 'inventory',
          details: {
            changed: {
              model: { from: 'Old', to: null },
              firmwareVersion: { from: null, to: '2.1.0' },
              attributes: { from: { site: 'north', colour: 'red' }, to: { site: 'north', level: 3 } },
            },
          },
        }),
      );
    });

    it('case=should refuse a patch that leaves more than 50 attributes', async () => {
      const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, i]));
      const { device } = await create({ attributes: many });
      const error = await failureOf(client().send(UpdateDevice, { tenant: 'demo', actor: admin, deviceId: device.id, changes: { attributes: { one: 'more' } } }));
      expect(error.code).toBe('validation_failed');
    });
  });

  describe('listing', () => {
    let ids: Record<string, string>;

    beforeAll(async () => {
      const make = async (name: string, device: Partial<NewDevice>) => [name, (await create({ serial: name, ...device }, 'fleet')).device.id] as const;
      ids = Object.fromEntries([
        await make('a', { type: 'sensor', attributes: { site: 'north', level: 1 } }),
        await make('b', { type: 'sensor', attributes: { site: 'south', level: 1 }, ownerId: 'user-1' }),
        await make('c', { type: 'bike-lock', attributes: { site: 'north', level: 2, indoor: true }, activate: true }),
        await make('d', { type: 'bike-lock', ownerId: 'user-2', activate: true }),
        await make('e', { type: 'bike-lock', attributes: { site: 'north' } }),
        ...(await Promise.all(Array.from({ length: 9 }, (_, i) => make(`z${i}`, { type: 'gateway' })))),
      ]);
      await act(ids.c!, 'suspend', 'fleet');
    });

    const list = (query: Partial<{ status: DeviceStatus; type: string; ownerId: string; attributes: Record<string, string | number | boolean>; limit: number; cursor: string }>) =>
      client().send(ListDevices, { tenant: 'fleet', ...query });
    const names = (items: { serial: string }[]) => items.map((item) => item.serial).sort();

    it('filters by status, type, owner (or none) and attributes, all together', async () => {
      expect(names((await list({ status: 'suspended' })).items)).toEqual(['c']);
      expect(names((await list({ type: 'sensor' })).items)).toEqual(['a', 'b']);
      expect(names((await list({ ownerId: 'user-2' })).items)).toEqual(['d']);
      expect(names((await list({ ownerId: 'none', type: 'bike-lock' })).items)).toEqual(['c', 'e']);
      expect(names((await list({ attributes: { site: 'north' } })).items)).toEqual(['a', 'c', 'e']);
      expect(names((await list({ attributes: { site: 'north', level: 1 } })).items)).toEqual(['a']);
      expect(names((await list({ attributes: { indoor: true }, status: 'suspended', type: 'bike-lock' })).items)).toEqual(['c']);
      expect((await list({ attributes: { site: 'north' }, type: 'gateway' })).items).toEqual([]);
    });

    it('pages newest first, without duplicates or omissions, also while devices are added', async () => {
      const all = (await list({ limit: 500 })).items;
      expect(all).toHaveLength(14);
      const order = [...all].sort((x, y) => (y.createdAt === x.createdAt ? (y.id < x.id ? -1 : 1) : y.createdAt < x.createdAt ? -1 : 1));
      expect(all.map((d) => d.id)).toEqual(order.map((d) => d.id));

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list({ limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((d) => d.id));
        cursor = page.nextCursor ?? undefined;
        // A device added between pages is newer than the cursor: it does not shift the pages.
        if (pages++ === 0) await create({ serial: 'late', type: 'gateway' }, 'fleet');
      } while (cursor);
      expect(pages).toBe(4);
      expect(seen).toEqual(all.map((d) => d.id));
    });

    it('case=should refuse a cursor it did not make', async () => {
      for (const cursor of ['garbage', Buffer.from('["x","y"]').toString('base64url')]) expect((await failureOf(list({ cursor }))).code).toBe('invalid_request');
    });

    it('never shows another tenant its devices', async () => {
      const { items } = await client().send(ListDevices, { tenant: 'other', limit: 500 });
      expect(items.every((device) => device.tenant === 'other')).toBe(true);
      expect(items.map((d) => d.id)).not.toContain(ids.a);
    });
  });

  describe('audit trail', () => {
    it('is newest first, paged, and says who, when, from → to and why', async () => {
      const { device } = await create();
      await act(device.id, 'activate', 'demo', 'installed');
      await act(device.id, 'suspend', 'demo', 'vandalised');
      await act(device.id, 'reactivate', 'demo', 'repaired');
      await act(device.id, 'decommission', 'demo', 'end of life');
      const items = [];
      let cursor: string | null = null;
      do {
        const page: { items: unknown[]; nextCursor: string | null } = await client().send(GetDeviceAudit, { tenant: 'demo', deviceId: device.id, limit: 2, ...(cursor ? { cursor } : {}) });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(items).toEqual(
        [
          ['decommissioned', 'active', 'end of life'],
          ['reactivated', 'suspended', 'repaired'],
          ['suspended', 'active', 'vandalised'],
          ['activated', 'provisioned', 'installed'],
        ]
          .map(([event, from, reason]) => expect.objectContaining({ deviceId: device.id, event, actor: admin, at: expect.any(String), fromStatus: from, reason }))
          .concat([expect.objectContaining({ event: 'created', fromStatus: null, toStatus: 'provisioned', reason: null })]),
      );
    });
  });

  describe('tenants', () => {
    it("case=should not find another tenant's device, whatever the operation, and leave it alone", async () => {
      const { device, credentials } = await create({ type: 'sensor', credentials: [{ kind: 'x509', thumbprint: '12'.repeat(32) }] });
      const other = { tenant: 'other', actor: admin, deviceId: device.id };
      const attempts = [
        client().send(GetDevice, { tenant: 'other', deviceId: device.id }),
        client().send(UpdateDevice, { ...other, changes: { location: 'elsewhere' } }),
        ...DEVICE_ACTIONS.map((action) => client().send(ChangeDeviceStatus, { ...other, action })),
        client().send(AddDeviceCredential, { ...other, credential: { kind: 'x509', thumbprint: '34'.repeat(32) } }),
        client().send(RevokeDeviceCredential, { ...other, credentialId: credentials[0]!.id }),
        client().send(GetDeviceAudit, { tenant: 'other', deviceId: device.id }),
        client().send(IssueClaimCode, other),
        client().send(BindDeviceOwner, { tenant: 'other', deviceId: device.id, userId: 'intruder' }),
      ];
      for (const error of await Promise.all(attempts.map(failureOf))) expect(error.toEnvelope()).toEqual({ code: 'not_found', message: 'no such device' });
      const after = await client().send(GetDevice, { tenant: 'demo', deviceId: device.id });
      expect(after.device).toEqual(device);
      expect(after.credentials).toEqual(credentials);
      expect(await outboxOf(device.id)).toHaveLength(1);
    });

    it('creates the devices of the tenants file once, active, audited, and not again at the next start', async () => {
      const read = async () => (await pool.query(`SELECT id, status, model, attributes FROM devices.device WHERE tenant = 'demo' AND serial = 'config-lock-1'`)).rows[0];
      for (let i = 0; i < 100 && !(await read()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const device = await read();
      expect(device).toEqual({ id: expect.any(String), status: 'active', model: 'Latch One', attributes: { site: 'hq' } });

      // Another start (both replicas already reconciled at boot): nothing new.
      const db = new DeviceDatabase({ kind: 'url', url: cluster.database.url, poolSize: 1 });
      try {
        await new DeviceReconciler(new DeviceStore(db, { kick: () => undefined }), cluster.client, Date.now).reconcile(tenants.tenants);
      } finally {
        await db.close();
      }
      expect((await auditOf(device.id)).map((row) => [row.event, row.actor_type, row.actor_id])).toEqual([['created', 'system', 'tenants-file']]);
      expect((await outboxOf(device.id)).map((row) => row.subject)).toEqual(['latchkey.events.device.created']);
    });
  });

  describe('finding by serial and recording commands', () => {
    it('finds a device by its serial, only in its own tenant', async () => {
      const { device } = await create();
      expect((await client().send(FindDeviceBySerial, { tenant: 'demo', serial: device.serial })).device).toEqual(device);
      expect((await failureOf(client().send(FindDeviceBySerial, { tenant: 'other', serial: device.serial }))).code).toBe('not_found');
      expect((await failureOf(client().send(FindDeviceBySerial, { tenant: 'demo', serial: 'no-such-serial' }))).code).toBe('not_found');
    });

    it('records who sent a command for whom in the audit trail, without an event, and only for an active device', async () => {
      const deviceId = await deviceIn('active');
      const outboxBefore = await outboxOf(deviceId);
      const grantId = randomUUID();
      const recorded = await client().send(RecordDeviceCommand, { tenant: 'demo', deviceId, command: 'unlock', actor: { type: 'user', id: 'bianca-id' }, onBehalfOf: 'adam-id', grantId });
      expect(recorded.device.id).toBe(deviceId);
      const last = (await auditOf(deviceId)).at(-1);
      expect(last).toMatchObject({ event: 'command', actor_type: 'user', actor_id: 'bianca-id', details: { command: 'unlock', commandId: recorded.commandId, onBehalfOf: 'adam-id', grantId } });
      expect(await outboxOf(deviceId)).toEqual(outboxBefore);

      const suspended = await deviceIn('suspended');
      const refused = await failureOf(client().send(RecordDeviceCommand, { tenant: 'demo', deviceId: suspended, command: 'unlock', actor: admin, onBehalfOf: null, grantId: null }));
      expect(refused.code).toBe('conflict');
      expect((await failureOf(client().send(RecordDeviceCommand, { tenant: 'other', deviceId, command: 'unlock', actor: admin, onBehalfOf: null, grantId: null }))).code).toBe('not_found');
    });
  });

  describe('outbox relay', () => {
    let stream: EventStream;
    afterAll(async () => stream?.close());

    it('publishes each change on JetStream with its outbox id as the event id', async () => {
      stream = createEventStream(cluster.transport);
      const received: unknown[] = [];
      const consumer = await stream.consume({
        durable: 'device-registry-int',
        contracts: [DeviceSuspended],
        handle: async (_contract, payload) => {
          received.push(payload);
        },
      });
      try {
        const { device } = await create({ activate: true });
        await act(device.id, 'suspend', 'demo', 'test');
        const [row] = (await outboxOf(device.id)).filter((r) => r.subject === DeviceSuspended.subject);
        for (let i = 0; i < 200 && !received.some((p) => (p as { deviceId: string }).deviceId === device.id); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toContainEqual(row!.payload);
        // The relay marks the row after JetStream acknowledged it, so the consumer may see the event first.
        const publishedAt = async () => (await pool.query(`SELECT published_at FROM devices.outbox_event WHERE id = $1`, [row!.id])).rows[0].published_at as Date | null;
        for (let i = 0; i < 100 && !(await publishedAt()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await publishedAt()).toBeInstanceOf(Date);
      } finally {
        await consumer.stop();
      }
    });
  });

  it('reports its database in its health, over NATS', async () => {
    await expect(client().send(DeviceHealth, {})).resolves.toEqual({ service: 'device-registry', status: 'ok', checks: { database: { ok: true, latencyMs: expect.any(Number) } } });
  });
});
