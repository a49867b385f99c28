import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  type Actor,
  CheckGrant,
  ContractError,
  CreateGrant,
  DeclineGrant,
  DelegationHealth,
  DELEGATION_EVENTS,
  DelegationEventPayload,
  DeviceClaimed,
  DeviceDecommissioned,
  type DeviceView,
  FindDeviceBySerial,
  FindUser,
  GetGrant,
  GetUserClaims,
  type GrantView,
  ListGrants,
  type ParsedRequestOf,
  type ReplyOf,
  type RequestContract,
  type RequestOf,
  RevokeGrant,
  UseAllGrants,
  UseGrant,
} from '@latchkey/contracts';
import { createEventStream, type EventStream, Handles, microserviceOptions, type RunningConsumer } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { DelegationModule } from './delegation.module.js';

// The delegation service (two replicas) against a real PostgreSQL and NATS with JetStream. Identity and
// the device registry are other services whose libraries a service library may not import, not even in
// its tests (module boundaries, docs/adr/0006): a small stand-in on the cluster's NATS answers FindUser,
// GetUserClaims and FindDeviceBySerial per contract, from users and devices the tests set up. Device
// events travel on the real JetStream, published as the registry's outbox relay publishes them.

const tenants = parseTenants(`
tenants:
  - id: demo
    delegation: { accountScopes: [profile:read, devices:read], maxGrantSeconds: 2592000 }
    deviceTypes:
      - { type: bike-lock, ownerScopes: [lock:unlock, lock:configure] }
      - { type: sensor }
  - id: other
    deviceTypes:
      - { type: bike-lock, ownerScopes: [lock:unlock] }
`);

interface StandInUser {
  id: string;
  tenant: string;
  username: string;
  status: 'active' | 'disabled';
}

/** What identity and the device registry know, as the tests set it up. */
const world = {
  users: [] as StandInUser[],
  devices: [] as DeviceView[],
};

@Controller()
class StandInServices {
  @Handles(FindUser)
  findUser(request: ParsedRequestOf<typeof FindUser>): ReplyOf<typeof FindUser> {
    const user = world.users.find((u) => u.tenant === request.tenant && u.username === request.username);
    return { user: user ? { ...user, roles: [] } : null };
  }

  @Handles(GetUserClaims)
  claims(request: ParsedRequestOf<typeof GetUserClaims>): ReplyOf<typeof GetUserClaims> {
    const user = world.users.find((u) => u.tenant === request.tenant && u.id === request.userId && u.status === 'active');
    if (!user) throw new ContractError('not_found', 'no such active user');
    return { claims: { sub: user.id, ...(request.scopes.includes('profile') ? { preferred_username: user.username } : {}) } };
  }

  @Handles(FindDeviceBySerial)
  device(request: ParsedRequestOf<typeof FindDeviceBySerial>): ReplyOf<typeof FindDeviceBySerial> {
    const device = world.devices.find((d) => d.tenant === request.tenant && d.serial === request.serial);
    if (!device) throw new ContractError('not_found', 'no such device');
    return { device };
  }
}

@Module({ controllers: [StandInServices] })
class StandInModule {}

const START = Date.parse('2026-11-23T09:00:00Z'); // a Monday, 10:00 in Zurich
let now = START;
const clock = () => now;
/** Time only moves forward here: the expiry sweeper runs on the same clock. */
const setClock = (iso: string) => {
  const next = Date.parse(iso);
  if (next < now) throw new Error(`the test clock cannot go back to ${iso}`);
  now = next;
};
const advance = (seconds: number) => (now += seconds * 1000);
const inSeconds = (seconds: number) => new Date(now + seconds * 1000).toISOString();

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => (error as ContractError).toEnvelope(),
  );

async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('delegation grants over NATS, PostgreSQL and JetStream', () => {
  let cluster: ServiceCluster;
  let standIns: INestMicroservice;
  let stream: EventStream;
  let observer: RunningConsumer;
  let pool: pg.Pool;
  const published: { subject: string; payload: DelegationEventPayload }[] = [];

  const user = (username: string, tenant = 'demo', status: StandInUser['status'] = 'active') => {
    const created = { id: randomUUID(), tenant, username, status };
    world.users.push(created);
    return created;
  };
  const adam = user('adam');
  const bianca = user('bianca');
  const carl = user('carl');
  const erin = user('erin');
  user('dora', 'demo', 'disabled');
  const olga = user('olga', 'other');
  const as = (u: { id: string }): Actor => ({ type: 'user', id: u.id });

  let serials = 0;
  const device = (owner: { id: string } | null, options: { tenant?: string; serial?: string; status?: DeviceView['status']; type?: string } = {}) => {
    const at = new Date(now).toISOString();
    const created: DeviceView = {
      id: randomUUID(),
      tenant: options.tenant ?? 'demo',
      serial: options.serial ?? `lock-${++serials}`,
      type: options.type ?? 'bike-lock',
      model: null,
      firmwareVersion: null,
      location: null,
      attributes: {},
      ownerId: owner?.id ?? null,
      status: options.status ?? 'active',
      createdAt: at,
      updatedAt: at,
      lastSeenAt: null,
    };
    world.devices.push(created);
    return created;
  };

  beforeAll(async () => {
    cluster = await startServiceCluster({
      queue: 'delegation',
      replicas: 2,
      requestTimeoutMs: 10_000,
      module: ({ databaseUrl, messaging }) =>
        DelegationModule.forRoot({
          tenants,
          database: { kind: 'url', url: databaseUrl, poolSize: 3 },
          messaging,
          clock,
          expiry: { intervalMs: 250 },
          outbox: { pollIntervalMs: 250 },
        }),
    });
    standIns = await NestFactory.createMicroservice(StandInModule, { ...microserviceOptions(cluster.transport, 'stand-ins'), logger: false });
    await standIns.listen();
    // The registry's publisher, and an observer of what the delegation service publishes.
    stream = createEventStream(cluster.transport);
    observer = await stream.consume({
      durable: 'test-delegation-observer',
      contracts: Object.values(DELEGATION_EVENTS),
      handle: async (contract, payload) => {
        published.push({ subject: contract.subject, payload: payload as DelegationEventPayload });
      },
    });
    pool = new pg.Pool({ connectionString: cluster.database.url, max: 2 });
  });

  afterAll(async () => {
    await observer?.stop();
    await stream?.close();
    await pool?.end();
    await standIns?.close();
    await cluster?.stop();
  });

  const send = <C extends RequestContract>(contract: C, request: RequestOf<C>) => cluster.client.send(contract, request);
  const share = async (from: { id: string }, overrides: Partial<RequestOf<typeof CreateGrant>> = {}) =>
    (
      await send(CreateGrant, {
        tenant: 'demo',
        actor: as(from),
        delegatee: { type: 'user', username: 'bianca' },
        resource: `device:${device(from).serial}`,
        scopes: ['lock:unlock'],
        expiresAt: inSeconds(7 * 86_400),
        ...overrides,
      })
    ).grant;
  const use = (who: { id: string }, request: Partial<RequestOf<typeof UseGrant>> = {}, tenant = 'demo') =>
    send(UseGrant, { tenant, delegatee: { type: 'user', id: who.id }, ...request });
  const statusOf = async (grantId: string) => (await pool.query<{ status: string }>(`SELECT status FROM delegation."grant" WHERE id = $1`, [grantId])).rows[0]?.status;
  const outboxOf = async (grantId: string) =>
    (await pool.query<{ id: string; subject: string; payload: DelegationEventPayload }>(`SELECT id, subject, payload FROM delegation.outbox_event WHERE payload->>'grantId' = $1 ORDER BY seq`, [grantId]))
      .rows;
  const auditOf = async (grantId: string) => (await pool.query(`SELECT * FROM delegation.grant_audit WHERE grant_id = $1 ORDER BY id`, [grantId])).rows;

  describe('sharing a device', () => {
    it('writes the grant, one `granted` audit record and one `granted` event, and publishes it', async () => {
      const lock = device(adam);
      const reply = await send(CreateGrant, {
        tenant: 'demo',
        actor: as(adam),
        delegatee: { type: 'user', username: 'bianca' },
        resource: `device:${lock.serial}`,
        scopes: ['lock:unlock'],
        expiresAt: inSeconds(3600),
        constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
      });
      expect(reply.grant).toEqual({
        id: expect.any(String),
        tenant: 'demo',
        delegator: { id: adam.id, name: 'adam' },
        rootDelegatorId: adam.id,
        delegatee: { type: 'user', id: bianca.id, name: 'bianca' },
        resource: `device:${lock.serial}`,
        scopes: ['lock:unlock'],
        notBefore: new Date(now).toISOString(),
        expiresAt: inSeconds(3600),
        constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
        redelegation: { allowed: false, maxDepth: 0 },
        depth: 0,
        parentId: null,
        status: 'active',
        uses: 0,
        createdAt: new Date(now).toISOString(),
        updatedAt: new Date(now).toISOString(),
        endedAt: null,
        endedBy: null,
        reason: null,
      });
      const grantId = reply.grant.id;
      const outbox = await outboxOf(grantId);
      expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted']);
      expect(DelegationEventPayload.parse(outbox[0]!.payload)).toEqual({
        eventId: outbox[0]!.id,
        tenant: 'demo',
        grantId,
        parentId: null,
        delegatorId: adam.id,
        delegatee: { type: 'user', id: bianca.id },
        resource: `device:${lock.serial}`,
        scopes: ['lock:unlock'],
        expiresAt: inSeconds(3600),
        actor: as(adam),
        at: new Date(now).toISOString(),
        reason: null,
      });
      expect(await auditOf(grantId)).toEqual([expect.objectContaining({ tenant: 'demo', event: 'granted', actor_type: 'user', actor_id: adam.id, reason: null })]);
      // Published on JetStream by the outbox relay, once.
      await eventually(async () => published.some((event) => event.payload.grantId === grantId), 'the granted event');
      expect(published.filter((event) => event.payload.grantId === grantId).map((event) => event.subject)).toEqual(['latchkey.events.delegation.granted']);

      const read = await send(GetGrant, { tenant: 'demo', grantId, actor: as(bianca) });
      expect(read.grant).toEqual(reply.grant);
      expect(read.audit).toEqual([{ id: expect.any(String), grantId, event: 'granted', actor: as(adam), at: new Date(now).toISOString(), reason: null, details: expect.objectContaining({ basis: 'owner' }) }]);
    });

    it('case=should resolve a delegatee given by id, and take a client id as given', async () => {
      const byId = await share(adam, { delegatee: { type: 'user', id: carl.id } });
      expect(byId.delegatee).toEqual({ type: 'user', id: carl.id, name: 'carl' });
      const toApp = await share(adam, { delegatee: { type: 'client', id: 'demo-home-app' } });
      expect(toApp.delegatee).toEqual({ type: 'client', id: 'demo-home-app', name: 'demo-home-app' });
    });

    it.each([
      ['an unknown username', { type: 'user', username: 'nobody' }],
      ['an unknown user id', { type: 'user', id: randomUUID() }],
      ['a disabled user', { type: 'user', username: 'dora' }],
      ['the delegator by username', { type: 'user', username: 'adam' }],
      ['the delegator by id', { type: 'user', id: adam.id }],
      ['a user of another tenant', { type: 'user', username: 'olga' }],
    ] as const)('case=should refuse %s as delegatee', async (_case, delegatee) => {
      const error = await failureOf(share(adam, { delegatee }));
      expect(error).toMatchObject({ code: 'validation_failed' });
    });

    it.each([
      ['in the past', () => ({ expiresAt: inSeconds(-60) })],
      ['before notBefore', () => ({ notBefore: inSeconds(7200), expiresAt: inSeconds(3600) })],
      ['beyond maxGrantSeconds', () => ({ expiresAt: inSeconds(2_592_000 + 60) })],
    ])('case=should refuse a window %s', async (_case, window) => {
      expect(await failureOf(share(adam, window()))).toMatchObject({ code: 'validation_failed' });
    });

    it('case=should refuse scopes beyond what an owner may share, naming them', async () => {
      const error = await failureOf(share(adam, { scopes: ['lock:unlock', 'lock:destroy', 'admin'] }));
      expect(error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('lock:destroy, admin'), details: expect.objectContaining({ scopes: ['lock:destroy', 'admin'] }) });
      // A type without ownerScopes: nothing to share.
      const sensor = device(adam, { type: 'sensor' });
      expect(await failureOf(share(adam, { resource: `device:${sensor.serial}` }))).toMatchObject({ code: 'forbidden', details: expect.objectContaining({ scopes: ['lock:unlock'] }) });
    });

    it("case=should refuse to share someone else's, an unknown or a decommissioned device alike", async () => {
      const biancas = device(bianca);
      const gone = device(adam, { status: 'decommissioned' });
      const unowned = device(null);
      const answers = await Promise.all(
        [`device:${biancas.serial}`, 'device:no-such-lock', `device:${gone.serial}`, `device:${unowned.serial}`].map((resource) => failureOf(share(adam, { resource, delegatee: { type: 'user', username: 'carl' } }))),
      );
      for (const answer of answers) expect(answer).toEqual({ code: 'forbidden', message: answers[0]!.message, details: { resource: expect.any(String) } });
      expect(answers[0]!.message).toMatch(/you can only share what you own/);
    });

    it('case=should share the account within the tenant accountScopes only', async () => {
      const grant = await share(adam, { resource: '*', scopes: ['profile:read'] });
      expect(grant).toMatchObject({ resource: '*', depth: 0, scopes: ['profile:read'] });
      expect(await failureOf(share(adam, { resource: '*', scopes: ['profile:read', 'profile:write'] }))).toMatchObject({ code: 'forbidden', details: { scopes: ['profile:write'], resource: '*' } });
    });

    it('case=should refuse sharing by anyone but a person', async () => {
      const lock = device(adam);
      const error = await failureOf(send(CreateGrant, { tenant: 'demo', actor: { type: 'client', id: adam.id }, delegatee: { type: 'user', username: 'bianca' }, resource: `device:${lock.serial}`, scopes: ['lock:unlock'], expiresAt: inSeconds(60) }));
      expect(error.code).toBe('forbidden');
    });
  });

  describe('listing and reading', () => {
    it('lists what a person shared and what was shared with them, newest first, page by page', async () => {
      const frank = user('frank');
      const first = await share(adam, { delegatee: { type: 'user', username: 'frank' } });
      advance(1);
      const second = await share(bianca, { delegatee: { type: 'user', username: 'frank' } });
      advance(1);
      const third = await share(adam, { delegatee: { type: 'user', username: 'frank' }, scopes: ['lock:configure'] });
      const page1 = await send(ListGrants, { tenant: 'demo', role: 'delegatee', party: { type: 'user', id: frank.id }, limit: 2 });
      expect(page1.items.map((g) => g.id)).toEqual([third.id, second.id]);
      const page2 = await send(ListGrants, { tenant: 'demo', role: 'delegatee', party: { type: 'user', id: frank.id }, limit: 2, cursor: page1.nextCursor! });
      expect(page2).toEqual({ items: [first], nextCursor: null });
      await send(RevokeGrant, { tenant: 'demo', grantId: first.id, actor: as(adam) });
      const active = await send(ListGrants, { tenant: 'demo', role: 'delegatee', party: { type: 'user', id: frank.id }, status: 'active' });
      expect(active.items.map((g) => g.id)).toEqual([third.id, second.id]);
      const byBianca = await send(ListGrants, { tenant: 'demo', role: 'delegator', party: { type: 'user', id: bianca.id }, resource: second.resource });
      expect(byBianca.items.map((g) => g.id)).toEqual([second.id]);
      expect(await failureOf(send(ListGrants, { tenant: 'demo', role: 'delegator', party: { type: 'user', id: adam.id }, cursor: 'garbage' }))).toMatchObject({ code: 'invalid_request' });
    });

    it('shows a grant to its delegator, its delegatee and an admin only', async () => {
      const grant = await share(adam);
      for (const actor of [as(adam), as(bianca)]) expect((await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor })).grant.id).toBe(grant.id);
      expect((await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(carl), admin: true })).grant.id).toBe(grant.id);
      expect(await failureOf(send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(carl) }))).toEqual({ code: 'not_found', message: 'no such grant' });
      expect(await failureOf(send(GetGrant, { tenant: 'demo', grantId: randomUUID(), actor: as(adam), admin: true }))).toEqual({ code: 'not_found', message: 'no such grant' });
    });
  });

  describe('re-delegation', () => {
    /** Adam → Bianca on a fresh lock of Adam's, re-delegable. */
    const redelegable = (overrides: Partial<RequestOf<typeof CreateGrant>> = {}) =>
      share(adam, { scopes: ['lock:unlock', 'lock:configure'], redelegation: { allowed: true, maxDepth: 2 }, ...overrides });
    const reshare = (from: { id: string }, parent: GrantView, overrides: Partial<RequestOf<typeof CreateGrant>> = {}) =>
      send(CreateGrant, {
        tenant: 'demo',
        actor: as(from),
        delegatee: { type: 'user', username: 'carl' },
        resource: parent.resource,
        scopes: ['lock:unlock'],
        expiresAt: parent.expiresAt,
        ...overrides,
      }).then((reply) => reply.grant);

    it('re-delegates within the grant held: one level down, linked, constraints inherited, usable along the chain', async () => {
      const constraints = { timeZone: 'Europe/Zurich', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] as const };
      const parent = await redelegable({ constraints: { ...constraints, weekdays: [...constraints.weekdays] } });
      const child = await reshare(bianca, parent, { redelegation: { allowed: true, maxDepth: 1 } });
      expect(child).toMatchObject({ delegator: { id: bianca.id, name: 'bianca' }, depth: 1, parentId: parent.id, constraints, redelegation: { allowed: true, maxDepth: 1 } });
      const grandchild = await reshare(carl, child, { delegatee: { type: 'user', username: 'erin' } });
      expect(grandchild).toMatchObject({ depth: 2, parentId: child.id });
      const outbox = await outboxOf(grandchild.id);
      expect(outbox[0]!.payload).toMatchObject({ parentId: child.id, delegatorId: carl.id, delegatee: { type: 'user', id: erin.id } });

      const used = await use(erin, { resource: grandchild.resource });
      expect(used.actors).toEqual([
        { type: 'user', id: bianca.id },
        { type: 'user', id: carl.id },
        { type: 'user', id: erin.id },
      ]);
      expect(used.grant).toMatchObject({ id: grandchild.id, uses: 1 });
      // A use under a re-delegation counts on the whole chain.
      expect((await send(GetGrant, { tenant: 'demo', grantId: parent.id, actor: as(adam) })).grant.uses).toBe(1);
      // `delegatorId` is the grant's own delegator, not the owner at the root of its chain.
      expect((await use(erin, { delegatorId: carl.id, resource: grandchild.resource })).grant.id).toBe(grandchild.id);
      expect(await failureOf(use(erin, { delegatorId: adam.id, resource: grandchild.resource }))).toMatchObject({ code: 'not_found' });
    });

    it('case=should refuse re-delegating a grant that does not allow it', async () => {
      const parent = await share(adam);
      expect(await failureOf(reshare(bianca, parent))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/does not allow re-delegation/) });
    });

    it('case=should refuse going deeper than allowed', async () => {
      const parent = await redelegable({ redelegation: { allowed: true, maxDepth: 1 } });
      expect(await failureOf(reshare(bianca, parent, { redelegation: { allowed: true, maxDepth: 1 } }))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^too deep/) });
      const child = await reshare(bianca, parent, { redelegation: { allowed: true, maxDepth: 0 } });
      expect(await failureOf(reshare(carl, child, { delegatee: { type: 'user', username: 'erin' } }))).toMatchObject({ code: 'forbidden' });
    });

    it('case=should refuse wider scopes than the grant held, naming them', async () => {
      const parent = await share(adam, { redelegation: { allowed: true, maxDepth: 1 } });
      expect(await failureOf(reshare(bianca, parent, { scopes: ['lock:unlock', 'lock:configure'] }))).toMatchObject({ code: 'forbidden', details: expect.objectContaining({ scopes: ['lock:configure'] }) });
    });

    it('case=should refuse a re-delegation that outlives the grant held', async () => {
      const parent = await redelegable({ expiresAt: inSeconds(3600) });
      expect(await failureOf(reshare(bianca, parent, { expiresAt: inSeconds(3601) }))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/cannot outlive/) });
    });

    it('case=should refuse giving a grant back to someone already in its chain', async () => {
      const parent = await redelegable();
      expect(await failureOf(reshare(bianca, parent, { delegatee: { type: 'user', username: 'adam' } }))).toMatchObject({ code: 'validation_failed' });
    });

    it('case=should refuse re-delegating a grant that cannot be used now', async () => {
      const parent = await redelegable({ constraints: { timeZone: 'UTC', maxUses: 1 } });
      await use(bianca, { grantId: parent.id });
      expect(await failureOf(reshare(bianca, parent))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/used up/) });
    });

    it("case=should take `*` as the sharer's own account first", async () => {
      const parent = await share(adam, { resource: '*', scopes: ['devices:read'], redelegation: { allowed: true, maxDepth: 1 } });
      // Bianca holds a re-delegable grant on Adam's account, but `*` in her request is her own account.
      const own = await reshare(bianca, parent, { scopes: ['devices:read'] });
      expect(own).toMatchObject({ resource: '*', depth: 0, parentId: null, delegator: { id: bianca.id } });
    });
  });

  describe('ending grants', () => {
    it('revokes a grant and, in the same transaction, every grant re-delegated from it', async () => {
      const root = await share(adam, { scopes: ['lock:unlock'], redelegation: { allowed: true, maxDepth: 2 } });
      const child = (await send(CreateGrant, { tenant: 'demo', actor: as(bianca), delegatee: { type: 'user', username: 'carl' }, resource: root.resource, scopes: ['lock:unlock'], expiresAt: root.expiresAt, redelegation: { allowed: true, maxDepth: 1 } })).grant;
      const grandchild = (await send(CreateGrant, { tenant: 'demo', actor: as(carl), delegatee: { type: 'user', username: 'erin' }, resource: root.resource, scopes: ['lock:unlock'], expiresAt: root.expiresAt })).grant;

      expect(await failureOf(send(RevokeGrant, { tenant: 'demo', grantId: root.id, actor: as(bianca) }))).toMatchObject({ code: 'forbidden' });
      expect(await failureOf(send(RevokeGrant, { tenant: 'demo', grantId: root.id, actor: as(erin) }))).toMatchObject({ code: 'not_found' });

      const reply = await send(RevokeGrant, { tenant: 'demo', grantId: root.id, actor: as(adam), reason: 'lost trust' });
      expect(reply.grant).toMatchObject({ status: 'revoked', endedAt: new Date(now).toISOString(), endedBy: as(adam), reason: 'lost trust' });
      expect(reply.alsoRevoked).toEqual([child.id, grandchild.id]);
      for (const [grant, reason] of [
        [child, 'the grant it was re-delegated from was revoked: lost trust'],
        [grandchild, 'the grant it was re-delegated from was revoked: lost trust'],
      ] as const) {
        const read = await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(adam), admin: true });
        expect(read.grant).toMatchObject({ status: 'revoked', endedBy: as(adam), reason });
        expect(read.audit.map((a) => a.event)).toEqual(['granted', 'revoked']);
        const outbox = await outboxOf(grant.id);
        expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.revoked']);
        expect(outbox[1]!.payload).toMatchObject({ eventId: outbox[1]!.id, grantId: grant.id, actor: as(adam), reason });
      }
      const rootOutbox = await outboxOf(root.id);
      expect(rootOutbox.map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.revoked']);
      expect(rootOutbox[1]!.payload).toMatchObject({ reason: 'lost trust', actor: as(adam) });
      expect((await auditOf(root.id)).map((row) => [row.event, row.reason])).toEqual([
        ['granted', null],
        ['revoked', 'lost trust'],
      ]);

      expect(await failureOf(use(erin, { grantId: grandchild.id }))).toMatchObject({ code: 'not_found' });
      expect(await send(CheckGrant, { tenant: 'demo', grantId: grandchild.id })).toEqual({ usable: false, reason: 'the grant is revoked' });
      expect(await failureOf(send(RevokeGrant, { tenant: 'demo', grantId: root.id, actor: as(adam) }))).toEqual({
        code: 'conflict',
        message: 'cannot revoke a grant that is revoked',
        details: { status: 'revoked', action: 'revoke' },
      });
    });

    it('lets an admin revoke any grant of the tenant', async () => {
      const grant = await share(adam);
      const reply = await send(RevokeGrant, { tenant: 'demo', grantId: grant.id, actor: { type: 'user', id: 'admin-1' }, admin: true });
      expect(reply).toEqual({ grant: expect.objectContaining({ status: 'revoked', endedBy: { type: 'user', id: 'admin-1' } }), alsoRevoked: [] });
    });

    it('lets the delegatee decline, ending what they re-delegated', async () => {
      const root = await share(adam, { redelegation: { allowed: true, maxDepth: 1 } });
      const child = (await send(CreateGrant, { tenant: 'demo', actor: as(bianca), delegatee: { type: 'user', username: 'carl' }, resource: root.resource, scopes: ['lock:unlock'], expiresAt: root.expiresAt })).grant;
      expect(await failureOf(send(DeclineGrant, { tenant: 'demo', grantId: root.id, actor: as(adam) }))).toMatchObject({ code: 'forbidden' });
      expect(await failureOf(send(DeclineGrant, { tenant: 'demo', grantId: root.id, actor: as(carl) }))).toMatchObject({ code: 'not_found' });
      const { grant } = await send(DeclineGrant, { tenant: 'demo', grantId: root.id, actor: as(bianca), reason: 'no bike' });
      expect(grant).toMatchObject({ status: 'declined', endedBy: as(bianca), reason: 'no bike' });
      expect(await statusOf(child.id)).toBe('revoked');
      expect((await outboxOf(root.id)).map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.declined']);
      expect((await outboxOf(child.id)).map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.revoked']);
      expect((await auditOf(root.id)).map((row) => row.event)).toEqual(['granted', 'declined']);
      expect(await failureOf(send(DeclineGrant, { tenant: 'demo', grantId: root.id, actor: as(bianca) }))).toMatchObject({ code: 'conflict' });
    });
  });

  describe('using grants', () => {
    it('grants the requested scopes within the grant, all of them when none are requested', async () => {
      const grant = await share(adam, { delegatee: { type: 'user', username: 'erin' }, scopes: ['lock:unlock', 'lock:configure'] });
      const resource = grant.resource;
      expect((await use(erin, { resource })).scopes).toEqual(['lock:unlock', 'lock:configure']);
      expect((await use(erin, { resource, scopes: ['lock:configure', 'openid'] })).scopes).toEqual(['lock:configure']);
      expect(await failureOf(use(erin, { resource, scopes: ['openid'] }))).toMatchObject({ code: 'invalid_scope' });
      expect(await failureOf(use(erin, { resource: 'device:not-shared' }))).toMatchObject({ code: 'not_found' });
      expect(await failureOf(use(erin, { resource, delegatorId: bianca.id }))).toMatchObject({ code: 'not_found' });
      const read = await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(adam) });
      expect(read.grant.uses).toBe(2);
      // Uses are counted, not audited: the trail holds the grant's changes only.
      expect(read.audit.map((a) => a.event)).toEqual(['granted']);
    });

    it('refuses a grant before notBefore and after expiresAt, and the sweeper publishes `expired`', async () => {
      const early = await share(adam, { delegatee: { type: 'user', username: 'carl' }, notBefore: inSeconds(600), expiresAt: inSeconds(1200) });
      expect(await failureOf(use(carl, { grantId: early.id }))).toMatchObject({ code: 'forbidden', details: { grantId: early.id, refusal: 'not_yet_valid' } });
      expect(await send(CheckGrant, { tenant: 'demo', grantId: early.id })).toMatchObject({ usable: false, reason: expect.stringMatching(/not valid before/) });
      advance(600);
      expect((await use(carl, { grantId: early.id })).grant.id).toBe(early.id);
      expect(await send(CheckGrant, { tenant: 'demo', grantId: early.id })).toMatchObject({ usable: true, grant: { id: early.id } });
      advance(600);
      // Past its expiry the grant is unusable at once, swept or not.
      const refused = await failureOf(use(carl, { grantId: early.id }));
      expect(refused.code === 'not_found' || (refused.code === 'forbidden' && refused.details?.refusal === 'expired')).toBe(true);
      await eventually(async () => (await statusOf(early.id)) === 'expired', 'the sweeper');
      expect(await failureOf(use(carl, { grantId: early.id }))).toMatchObject({ code: 'not_found' });
      const outbox = await outboxOf(early.id);
      expect(outbox.map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.expired']);
      expect(outbox[1]!.payload).toMatchObject({ actor: { type: 'system', id: 'delegation' }, reason: 'the grant reached its expiry' });
      expect((await auditOf(early.id)).map((row) => [row.event, row.actor_type])).toEqual([
        ['granted', 'user'],
        ['expired', 'system'],
      ]);
      await eventually(async () => published.some((event) => event.payload.grantId === early.id && event.subject === 'latchkey.events.delegation.expired'), 'the expired event on JetStream');
      expect((await send(GetGrant, { tenant: 'demo', grantId: early.id, actor: as(adam) })).grant).toMatchObject({ status: 'expired', endedBy: { type: 'system', id: 'delegation' } });
    });

    it('follows weekdays and a time window crossing midnight in the grant time zone', async () => {
      // Weeknights 22:00–06:00 in Tokyo (UTC+9, no DST).
      setClock('2026-11-25T12:00:00Z'); // Wednesday 21:00 in Tokyo
      const grant = await share(adam, {
        delegatee: { type: 'user', username: 'carl' },
        expiresAt: inSeconds(14 * 86_400),
        constraints: { timeZone: 'Asia/Tokyo', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], timeOfDay: { from: '22:00', to: '06:00' } },
      });
      const verdictAt = async (iso: string) => {
        setClock(iso);
        const check = await send(CheckGrant, { tenant: 'demo', grantId: grant.id });
        const used = await use(carl, { grantId: grant.id }).then(
          () => 'used',
          (error: ContractError) => `${error.code}:${String(error.details?.refusal)}`,
        );
        return [check.usable, used];
      };
      expect(await verdictAt('2026-11-25T12:30:00Z')).toEqual([false, 'forbidden:time_of_day']); // Wed 21:30
      expect(await verdictAt('2026-11-25T13:00:00Z')).toEqual([true, 'used']); // Wed 22:00
      expect(await verdictAt('2026-11-25T16:00:00Z')).toEqual([true, 'used']); // Thu 01:00, Wednesday night
      expect(await verdictAt('2026-11-25T21:00:00Z')).toEqual([false, 'forbidden:time_of_day']); // Thu 06:00
      expect(await verdictAt('2026-11-27T17:00:00Z')).toEqual([true, 'used']); // Sat 02:00, Friday night
      expect(await verdictAt('2026-11-28T14:00:00Z')).toEqual([false, 'forbidden:weekday']); // Sat 23:00
      expect(await verdictAt('2026-11-29T17:00:00Z')).toEqual([false, 'forbidden:weekday']); // Mon 02:00, Sunday night
      expect(await verdictAt('2026-11-30T13:30:00Z')).toEqual([true, 'used']); // Mon 22:30
      const { grant: read } = await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(carl) });
      expect(read.uses).toBe(4);
    });

    it('counts uses at issuance and stops at maxUses; a check counts nothing', async () => {
      const grant = await share(adam, { delegatee: { type: 'user', username: 'carl' }, constraints: { timeZone: 'UTC', maxUses: 2 } });
      expect((await use(carl, { grantId: grant.id })).grant.uses).toBe(1);
      expect((await use(carl, { grantId: grant.id })).grant.uses).toBe(2);
      expect(await failureOf(use(carl, { grantId: grant.id }))).toMatchObject({ code: 'forbidden', details: { refusal: 'used_up' }, message: 'the grant is used up (2 of 2 uses)' });
      expect(await send(CheckGrant, { tenant: 'demo', grantId: grant.id })).toMatchObject({ usable: true });
      expect((await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(adam) })).grant.uses).toBe(2);
    });

    it('lets exactly one of concurrent uses take the last use', async () => {
      const grant = await share(adam, { delegatee: { type: 'user', username: 'carl' }, constraints: { timeZone: 'UTC', maxUses: 3 } });
      await use(carl, { grantId: grant.id });
      await use(carl, { grantId: grant.id });
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => use(carl, { grantId: grant.id })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => o.status === 'rejected')) expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'forbidden' });
      expect((await pool.query(`SELECT uses FROM delegation."grant" WHERE id = $1`, [grant.id])).rows[0].uses).toBe(3);
    });

    it("counts a re-delegation's uses on its parent too: concurrent uses along a chain share the parent's last use", async () => {
      const parent = await share(adam, { constraints: { timeZone: 'UTC', maxUses: 2 }, redelegation: { allowed: true, maxDepth: 1 } });
      const child = (await send(CreateGrant, { tenant: 'demo', actor: as(bianca), delegatee: { type: 'user', username: 'carl' }, resource: parent.resource, scopes: ['lock:unlock'], expiresAt: parent.expiresAt })).grant;
      expect(child.constraints).toEqual({ timeZone: 'UTC', maxUses: 2 });
      expect((await use(carl, { grantId: child.id })).grant.uses).toBe(1);
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 3 }, () => use(carl, { grantId: child.id })),
        ...Array.from({ length: 3 }, () => use(bianca, { grantId: parent.id })),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const { rows } = await pool.query<{ id: string; uses: number }>(`SELECT id::text, uses FROM delegation."grant" WHERE id = ANY($1::uuid[])`, [[parent.id, child.id]]);
      expect(rows.find((row) => row.id === parent.id)!.uses).toBe(2);
      expect(await failureOf(use(carl, { grantId: child.id }))).toMatchObject({ code: 'forbidden', details: { refusal: 'used_up' } });
    });

    it('uses every usable grant at once for userinfo, oldest first', async () => {
      const gina = user('gina');
      const first = await share(adam, { delegatee: { type: 'user', username: 'gina' } });
      advance(1);
      const second = await share(bianca, { delegatee: { type: 'user', username: 'gina' }, scopes: ['lock:configure'] });
      advance(1);
      await share(adam, { delegatee: { type: 'user', username: 'gina' }, notBefore: inSeconds(3600), expiresAt: inSeconds(7200) });
      const spent = await share(adam, { delegatee: { type: 'user', username: 'gina' }, constraints: { timeZone: 'UTC', maxUses: 1 } });
      await use(gina, { grantId: spent.id });
      const { grants } = await send(UseAllGrants, { tenant: 'demo', delegatee: { type: 'user', id: gina.id } });
      expect(grants.map((g) => [g.grant.id, g.grant.uses, g.scopes])).toEqual([
        [first.id, 1, ['lock:unlock']],
        [second.id, 1, ['lock:configure']],
      ]);
      expect(grants[0]!.actors).toEqual([{ type: 'user', id: gina.id }]);
      expect(await send(UseAllGrants, { tenant: 'demo', delegatee: { type: 'client', id: 'nobody' } })).toEqual({ grants: [] });
    });
  });

  describe('tenants', () => {
    it('keeps grants and resources per tenant', async () => {
      const grant = await share(adam);
      expect(await failureOf(send(GetGrant, { tenant: 'other', grantId: grant.id, actor: as(adam), admin: true }))).toMatchObject({ code: 'not_found' });
      expect(await failureOf(send(RevokeGrant, { tenant: 'other', grantId: grant.id, actor: as(adam), admin: true }))).toMatchObject({ code: 'not_found' });
      expect(await failureOf(send(DeclineGrant, { tenant: 'other', grantId: grant.id, actor: as(bianca) }))).toMatchObject({ code: 'not_found' });
      expect(await send(CheckGrant, { tenant: 'other', grantId: grant.id })).toEqual({ usable: false, reason: 'no such grant' });
      expect(await failureOf(use(bianca, { grantId: grant.id }, 'other'))).toMatchObject({ code: 'not_found' });
      expect(await statusOf(grant.id)).toBe('active');

      // The same serial in another tenant is another device, of another owner.
      const serial = grant.resource.slice('device:'.length);
      device(olga, { tenant: 'other', serial });
      const olgas = await send(CreateGrant, { tenant: 'other', actor: as(olga), delegatee: { type: 'client', id: 'other-app' }, resource: grant.resource, scopes: ['lock:unlock'], expiresAt: inSeconds(60) });
      expect(olgas.grant).toMatchObject({ tenant: 'other', depth: 0 });
      expect(await failureOf(send(CreateGrant, { tenant: 'other', actor: as(adam), delegatee: { type: 'client', id: 'x' }, resource: grant.resource, scopes: ['lock:unlock'], expiresAt: inSeconds(60) }))).toMatchObject({ code: 'forbidden' });
      expect(await failureOf(send(ListGrants, { tenant: 'nowhere', role: 'delegator', party: { type: 'user', id: adam.id } }))).toMatchObject({ code: 'tenant_not_found' });
    });
  });

  describe('device events (JetStream)', () => {
    const registryEvent = (contract: typeof DeviceDecommissioned | typeof DeviceClaimed, lock: DeviceView, ownerId: string | null) => {
      const eventId = randomUUID();
      return stream.publish(
        contract,
        {
          eventId,
          tenant: lock.tenant,
          deviceId: lock.id,
          serial: lock.serial,
          type: lock.type,
          actor: { type: 'user', id: 'admin-1' },
          at: new Date(now).toISOString(),
          fromStatus: 'active',
          toStatus: contract === DeviceDecommissioned ? 'decommissioned' : 'active',
          ownerId,
          reason: null,
        },
        { messageId: eventId },
      );
    };

    it('ends every active grant on a decommissioned device, re-delegations included, and nothing elsewhere', async () => {
      const root = await share(adam, { redelegation: { allowed: true, maxDepth: 1 } });
      const lock = world.devices.find((d) => `device:${d.serial}` === root.resource)!;
      const child = (await send(CreateGrant, { tenant: 'demo', actor: as(bianca), delegatee: { type: 'user', username: 'carl' }, resource: root.resource, scopes: ['lock:unlock'], expiresAt: root.expiresAt })).grant;
      const elsewhere = await share(adam);
      // The same serial in the other tenant is another device: its decommissioning is not this one's.
      const namesake = device(olga, { tenant: 'other', serial: lock.serial });
      const olgas = (await send(CreateGrant, { tenant: 'other', actor: as(olga), delegatee: { type: 'client', id: 'other-app' }, resource: root.resource, scopes: ['lock:unlock'], expiresAt: inSeconds(60) })).grant;
      await registryEvent(DeviceDecommissioned, namesake, olga.id);
      await eventually(async () => (await statusOf(olgas.id)) === 'revoked', 'the other tenant grant to end');
      expect(await statusOf(root.id)).toBe('active');
      lock.status = 'decommissioned';
      await registryEvent(DeviceDecommissioned, lock, adam.id);
      await eventually(async () => (await statusOf(root.id)) === 'revoked' && (await statusOf(child.id)) === 'revoked', 'the grants to end');
      expect(await statusOf(elsewhere.id)).toBe('active');
      for (const grant of [root, child]) {
        const read = await send(GetGrant, { tenant: 'demo', grantId: grant.id, actor: as(adam), admin: true });
        expect(read.grant).toMatchObject({ status: 'revoked', endedBy: { type: 'system', id: 'delegation' }, reason: `device ${lock.serial} was decommissioned` });
        expect(read.audit.map((a) => a.event)).toEqual(['granted', 'revoked']);
        expect((await outboxOf(grant.id)).map((row) => row.subject)).toEqual(['latchkey.events.delegation.granted', 'latchkey.events.delegation.revoked']);
      }
      expect(await failureOf(share(adam, { resource: root.resource }))).toMatchObject({ code: 'forbidden' });
    });

    it("ends the grants of a device's former owner when it changes hands, not the new owner's", async () => {
      const former = await share(adam, { redelegation: { allowed: true, maxDepth: 1 } });
      const lock = world.devices.find((d) => `device:${d.serial}` === former.resource)!;
      const reshared = (await send(CreateGrant, { tenant: 'demo', actor: as(bianca), delegatee: { type: 'user', username: 'carl' }, resource: former.resource, scopes: ['lock:unlock'], expiresAt: former.expiresAt })).grant;
      lock.ownerId = erin.id;
      const erins = await send(CreateGrant, { tenant: 'demo', actor: as(erin), delegatee: { type: 'user', username: 'bianca' }, resource: former.resource, scopes: ['lock:configure'], expiresAt: inSeconds(600) });
      await registryEvent(DeviceClaimed, lock, erin.id);
      await eventually(async () => (await statusOf(former.id)) === 'revoked' && (await statusOf(reshared.id)) === 'revoked', 'the former owner grants to end');
      expect(await statusOf(erins.grant.id)).toBe('active');
      expect((await send(GetGrant, { tenant: 'demo', grantId: former.id, actor: as(adam) })).grant.reason).toBe(`device ${lock.serial} has a new owner`);
    });
  });

  it('reports its database in its health, over NATS', async () => {
    await expect(cluster.client.send(DelegationHealth, {})).resolves.toEqual({ service: 'delegation', status: 'ok', checks: { database: { ok: true, latencyMs: expect.any(Number) } } });
  });
});
