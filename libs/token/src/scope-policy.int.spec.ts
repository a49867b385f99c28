import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type ClientAuthentication, GetJwks, IssueToken, PolicyActivated } from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import { type ContractClient, createEventStream, type EventStream } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import type { INestMicroservice } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { permissiveRules, startStandInPolicy, type StandInPolicyRules, StandInPolicyState } from './test/stand-in-policy.js';
import { cacheKeyOf, ScopeDecisions } from './policy/scope-decisions.js';
import { TokenModule } from './token.module.js';

// Scopes decided by the policy (ARCHITECTURE flow 1, docs/adr/0023) for client_credentials, against a
// real PostgreSQL and NATS (JetStream) with two token replicas. The policy service is the stand-in of
// ./test/stand-in-policy.ts: the contract boundary (DecideBatch), with a tiny rule set; the real policy
// is proven by tests/e2e/token-scope-policy.e2e.spec.ts.

const publicUrl = 'https://auth.example.test';
/** How long the token service waits for a scope decision here. */
const POLICY_TIMEOUT_MS = 400;

const tenants = parseTenants(`
tenants:
  - id: demo
    clients:
      - { clientId: admin-svc, secret: admin-secret, grantTypes: [client_credentials], scopes: [devices:read, devices:write], roles: [admin] }
      - { clientId: viewer-svc, secret: viewer-secret, grantTypes: [client_credentials], scopes: [devices:read, devices:write], roles: [viewer] }
      - { clientId: writer-only, secret: writer-secret, grantTypes: [client_credentials], scopes: [devices:write] }
      - { clientId: bare, secret: bare-secret, grantTypes: [client_credentials] }
  - id: other
    clients:
      - { clientId: admin-svc, secret: admin-secret, grantTypes: [client_credentials], scopes: [devices:read, devices:write], roles: [admin] }
`);

const basic = (clientId: string, secret: string): ClientAuthentication => ({ method: 'client_secret_basic', clientId, clientSecret: secret });
const adminSvc = basic('admin-svc', 'admin-secret');
const viewerSvc = basic('viewer-svc', 'viewer-secret');
const writerOnly = basic('writer-only', 'writer-secret');

/** devices:write only for admins and operators, clients included (the default policy restricts people only). */
const restrictedWrite = (): StandInPolicyRules => ({ ...permissiveRules(), restricted: { 'devices:write': { roles: ['admin', 'operator'] } } });

describe('client_credentials: scopes decided by the policy', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  let policy: INestMicroservice;
  let events: EventStream;
  let offset = 0;
  const clock = () => Date.now() + offset;
  const state = new StandInPolicyState(restrictedWrite());
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));

  const issue = (auth: ClientAuthentication, scope?: string, tenant = 'demo') =>
    bus.send(IssueToken, { tenant, grantType: 'client_credentials', client: auth, parameters: scope === undefined ? {} : { scope } });
  /** Issues `n` tokens one after the other (both replicas answer some) and returns their scopes. */
  const scopesOf = async (n: number, auth: ClientAuthentication, scope?: string) => {
    const scopes: (string | undefined)[] = [];
    for (let i = 0; i < n; i++) scopes.push((await issue(auth, scope)).scope);
    return scopes;
  };
  /** The decisions asked since `since` (a batch count), as [subject id, scope]. */
  const askedSince = (since: number) => state.batches.slice(since).flatMap((batch) => batch.decisions.map((decision) => [decision.subject.id, decision.resource.id]));

  const adminSubject = { type: 'client', id: 'admin-svc', roles: ['admin'] } as const;
  const adminKey = (scope: string) => `${cacheKeyOf('demo', { subject: { ...adminSubject, roles: [...adminSubject.roles] }, scopes: [] })}\u0000${scope}`;
  const scopeDecisionsOf = (replica: INestMicroservice) => replica.get(ScopeDecisions, { strict: false });
  /** Has every replica decide admin-svc's scopes now (each replica has a cache of its own). */
  const warmEveryReplica = () => Promise.all(cluster.replicas.map((replica) => scopeDecisionsOf(replica).allowed('demo', { ...adminSubject, roles: ['admin'] }, ['devices:read', 'devices:write'])));
  const cachedOn = (scope: string) => cluster.replicas.map((replica) => scopeDecisionsOf(replica).cache.allows(adminKey(scope)));

  async function activate(tenant: string): Promise<void> {
    const eventId = randomUUID();
    await events.publish(
      PolicyActivated,
      { eventId, tenant, actor: { type: 'user', id: 'admin-1' }, at: new Date().toISOString(), kind: 'data', policyVersion: `b0.d1@${eventId.slice(0, 8)}`, bundleVersion: 0, dataVersion: 1 },
      { messageId: eventId },
    );
  }

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
          scopeDecisions: { timeoutMs: POLICY_TIMEOUT_MS },
        }),
    });
    bus = cluster.client;
    policy = await startStandInPolicy(cluster.transport, state);
    events = createEventStream(cluster.transport);
  });

  afterAll(async () => {
    await events?.close();
    await policy?.close();
    await cluster?.stop();
  });

  it('asks once per token request about the client with its tenants-file roles, and issues what is allowed', async () => {
    const before = state.batches.length;
    const issued = await issue(adminSvc);
    expect(issued.scope).toBe('devices:read devices:write');
    expect(state.batches.slice(before)).toEqual([
      {
        tenant: 'demo',
        decisions: ['devices:read', 'devices:write'].map((scope) => ({
          subject: { type: 'client', id: 'admin-svc', roles: ['admin'] },
          action: { name: 'token.scope' },
          resource: { type: 'scope', id: scope },
          context: {},
        })),
      },
    ]);
    const { payload } = await jwtVerify(issued.access_token, createLocalJWKSet(await bus.send(GetJwks, { tenant: 'demo' })), { issuer: `${publicUrl}/t/demo`, typ: 'at+jwt' });
    expect(payload.scope).toBe('devices:read devices:write');
  });

  it('leaves out a default scope the policy denies, and drops it from an explicit request that has an allowed one', async () => {
    await expect(issue(viewerSvc)).resolves.toMatchObject({ scope: 'devices:read' });
    await expect(issue(viewerSvc, 'devices:write devices:read')).resolves.toMatchObject({ scope: 'devices:read' });
    expect(state.decisions().find((decision) => decision.subject.id === 'viewer-svc')!.subject).toEqual({ type: 'client', id: 'viewer-svc', roles: ['viewer'] });
  });

  it('case=should fail with invalid_scope when every requested scope is denied', async () => {
    await expect(issue(viewerSvc, 'devices:write')).rejects.toMatchObject({ code: 'invalid_scope', message: expect.stringContaining('devices:write') });
    await expect(issue(writerOnly, 'devices:write')).rejects.toMatchObject({ code: 'invalid_scope' });
  });

  it('issues a token without scope when the policy denies every default scope, as for a client registered with none', async () => {
    const issued = await issue(writerOnly);
    expect(issued).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
  });

  it('never asks for a client that gets no scope, nor about a scope the client is not registered for', async () => {
    const before = state.batches.length;
    await expect(issue(basic('bare', 'bare-secret'))).resolves.not.toHaveProperty('scope');
    await expect(issue(adminSvc, 'devices:read lock:unlock')).rejects.toMatchObject({ code: 'invalid_scope' });
    expect(state.batches.length).toBe(before);
  });

  it('reuses allowed decisions for their ttlSeconds on each replica, never denials', async () => {
    await warmEveryReplica();
    const before = state.batches.length;
    expect(await scopesOf(20, adminSvc)).toEqual(Array(20).fill('devices:read devices:write'));
    expect(state.batches.length).toBe(before);
    // A denial is asked about on every request (the allowed devices:read is reused).
    const denials = state.batches.length;
    await scopesOf(6, viewerSvc);
    const asked = askedSince(denials);
    expect(asked.filter(([, scope]) => scope === 'devices:write')).toHaveLength(6);
    expect(asked.filter(([, scope]) => scope === 'devices:read').length).toBeLessThanOrEqual(1);
  });

  it('asks every time when the policy gives no ttlSeconds', async () => {
    state.rules = { ...restrictedWrite(), ttlSeconds: 0 };
    try {
      const before = state.batches.length;
      for (let i = 0; i < 4; i++) await expect(issue(adminSvc, 'devices:read', 'other')).resolves.toMatchObject({ scope: 'devices:read' });
      expect(askedSince(before)).toEqual(Array(4).fill(['admin-svc', 'devices:read']));
    } finally {
      state.rules = restrictedWrite();
    }
  });

  it('follows a policy change within the decisions\' ttlSeconds, and at once on every replica on PolicyActivated', async () => {
    await warmEveryReplica();
    // The policy now refuses devices:write to everybody. Without an activation event the cached allows
    // live on until their ttlSeconds (60 s here) run out…
    state.rules = { ...restrictedWrite(), denied: ['devices:write'] };
    try {
      expect(await scopesOf(4, adminSvc)).toEqual(Array(4).fill('devices:read devices:write'));
      offset += 61_000;
      expect(cachedOn('devices:write')).toEqual([false, false]);
      expect(await scopesOf(4, adminSvc)).toEqual(Array(4).fill('devices:read'));
      offset = 0;

      // …with one, both replicas drop the tenant's cached decisions at once.
      state.rules = restrictedWrite();
      await warmEveryReplica();
      expect(cachedOn('devices:write')).toEqual([true, true]);
      state.rules = { ...restrictedWrite(), denied: ['devices:write'] };
      await activate('demo');
      await sleep(300);
      expect(cachedOn('devices:write')).toEqual([false, false]);
      expect(cachedOn('devices:read')).toEqual([false, false]);
      expect(await scopesOf(6, adminSvc)).toEqual(Array(6).fill('devices:read'));
    } finally {
      state.rules = restrictedWrite();
      offset = 0;
    }
  });

  it('case=should fail with unavailable, never issue unchecked scopes, while the decision point is down or too slow; heals', async () => {
    await activate('demo');
    await sleep(300);
    state.rules = { ...restrictedWrite(), replyDelayMs: POLICY_TIMEOUT_MS * 3 };
    try {
      const started = Date.now();
      await expect(issue(viewerSvc)).rejects.toMatchObject({ code: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(POLICY_TIMEOUT_MS * 3);
    } finally {
      state.rules = restrictedWrite();
    }
    await policy.close();
    try {
      await expect(issue(viewerSvc)).rejects.toMatchObject({ code: 'unavailable' });
      await expect(issue(adminSvc, 'devices:read')).rejects.toMatchObject({ code: 'unavailable' });
      // A client that gets no scope needs no decision.
      await expect(issue(basic('bare', 'bare-secret'))).resolves.toMatchObject({ token_type: 'Bearer' });
    } finally {
      policy = await startStandInPolicy(cluster.transport, state);
    }
    await expect(issue(viewerSvc)).resolves.toMatchObject({ scope: 'devices:read' });
  });
});
