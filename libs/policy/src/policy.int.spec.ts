import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  ActivatePolicyBundle,
  type Actor,
  ContractError,
  Decide,
  DecideBatch,
  type DecisionInput,
  GetPolicyStatus,
  PolicyActivated,
  PolicyDecisionsLogged,
  PolicyHealth,
  type PayloadOf,
  UpdatePolicyData,
} from '@latchkey/contracts';
import { createEventStream, type EventStream, type RunningConsumer } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { maintenanceBundle, notAPolicyBundle } from './bundles/bundle-kit.test.js';
import { DecisionPoint } from './decisions/decision-point.js';
import { PolicyModule } from './policy.module.js';

const tenants = parseTenants(`
tenants:
  - id: demo
    policy:
      data:
        bindings:
          user:
            olga: { roles: [operator], sites: [zurich] }
  - id: acme
`);

const root: Actor = { type: 'user', id: 'root' };
const THURSDAY_EVENING = '2026-11-19T18:30:00Z';
const THURSDAY_MORNING = '2026-11-19T08:00:00Z';
const SECRET = 'eyJhbGciOiJFUzI1NiJ9.never-logged.signature';

const lock = (attributes: Record<string, unknown> = {}) => ({
  type: 'device',
  id: 'dev-lock-1',
  attributes: { serial: 'lock-1', type: 'bike-lock', ownerId: 'adam', status: 'active', site: 'zurich', firmwareVersion: '1.4.2', ...attributes },
});
const sensorItself = { type: 'device', id: 'dev-sensor-1', attributes: { type: 'sensor', status: 'active', site: 'zurich' } };
const sensor = { type: 'device' as const, id: 'dev-sensor-1', attributes: { deviceType: 'sensor' }, scopes: ['telemetry:write'] };
const controller = { type: 'device' as const, id: 'dev-ctl-1', attributes: { deviceType: 'controller', site: 'zurich' } };
const user = (id: string, roles: string[] = []) => ({ type: 'user' as const, id, roles });

/** Adam's lock shared with Bianca, Thursday 18:00–22:00 Zurich time: her exchanged token is sub=adam, act.sub=bianca. */
const eveningGrant = {
  id: 'a9d2b6e4-6c35-4a35-9f4e-4c7b5a0e9f11',
  status: 'active' as const,
  delegatee: 'bianca',
  resource: 'device:lock-1',
  scopes: ['lock:unlock'],
  notBefore: '2026-11-01T00:00:00Z',
  expiresAt: '2026-12-01T00:00:00Z',
  constraints: { timeZone: 'Europe/Zurich', weekdays: ['thu' as const], timeOfDay: { from: '18:00', to: '22:00' } },
};
const adamForBianca = { type: 'user' as const, id: 'adam', roles: ['device-owner'], act: { sub: 'bianca' }, gid: eveningGrant.id, scopes: ['lock:unlock'] };

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('policy service over NATS, JetStream and PostgreSQL', () => {
  let cluster: ServiceCluster;
  let stream: EventStream;
  let consumer: RunningConsumer;
  let nc: NatsConnection;
  const logged: PayloadOf<typeof PolicyDecisionsLogged>[] = [];
  const activations: PayloadOf<typeof PolicyActivated>[] = [];
  const rawDecisionEvents: string[] = [];

  beforeAll(async () => {
    cluster = await startServiceCluster({
      queue: 'policy',
      replicas: 2,
      requestTimeoutMs: 10_000,
      // A long periodic check: the replicas must learn of activations from the activation events.
      module: ({ databaseUrl, messaging }) =>
        PolicyModule.forRoot({ tenants, database: { kind: 'url', url: databaseUrl, poolSize: 2 }, messaging, reloadIntervalMs: 600_000, decisionLog: { flushMs: 20 } }),
    });
    stream = createEventStream(cluster.transport);
    consumer = await stream.consume({
      durable: 'policy-int-test',
      contracts: [PolicyDecisionsLogged, PolicyActivated],
      handle: async (contract, payload) => {
        if (contract.subject === PolicyActivated.subject) activations.push(payload as PayloadOf<typeof PolicyActivated>);
        else logged.push(payload as PayloadOf<typeof PolicyDecisionsLogged>);
      },
    });
    nc = await connect({ servers: cluster.natsUrl });
    const raw = nc.subscribe(PolicyDecisionsLogged.subject);
    void (async () => {
      for await (const message of raw) rawDecisionEvents.push(message.string());
    })();
    await nc.flush();
  });

  afterAll(async () => {
    await consumer?.stop();
    await stream?.close();
    await nc?.close();
    await cluster?.stop();
  });

  const decide = (input: DecisionInput, tenant = 'demo') => cluster.client.send(Decide, { tenant, ...input });
  const allowed = async (input: DecisionInput, tenant = 'demo') => (await decide(input, tenant)).allow;
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as ContractError,
    );
  /** What each replica decides, asked directly (NATS picks one replica per request). */
  const onEveryReplica = (tenant: string, input: DecisionInput) =>
    cluster.replicas.map((replica) => replica.get(DecisionPoint).decide(tenant, { ...input, context: input.context ?? {} } as Parameters<DecisionPoint['decide']>[1]));

  describe('default roles (RBAC), each allowed and denied', () => {
    const at = { time: THURSDAY_EVENING };
    it.each<[string, DecisionInput['subject'], string, DecisionInput['resource'], boolean]>([
      ['admin decommissions', user('ada', ['admin']), 'devices.decommission', lock(), true],
      ['admin without the token scope', { ...user('ada', ['admin']), scopes: ['devices:read'] }, 'devices.decommission', lock(), false],
      ['operator (role from the token) suspends at their site', { ...user('otto', ['operator']), attributes: { sites: ['zurich'] } }, 'devices.suspend', lock(), true],
      ['operator decommissions', { ...user('otto', ['operator']), attributes: { sites: ['zurich'] } }, 'devices.decommission', lock(), false],
      ['viewer reads', user('vic', ['viewer']), 'devices.read', lock(), true],
      ['viewer updates', user('vic', ['viewer']), 'devices.update', lock(), false],
      ['device-owner unlocks their lock', user('adam', ['device-owner']), 'device.command.unlock', lock(), true],
      ['device-owner unlocks another owner\'s lock', user('bianca', ['device-owner']), 'device.command.unlock', lock(), false],
      ['controller unlocks at its site', controller, 'device.command.unlock', lock(), true],
      ['controller unlocks elsewhere', controller, 'device.command.unlock', lock({ site: 'bern' }), false],
      ['nobody reads', user('nobody'), 'devices.read', lock(), false],
    ])('case=%s', async (_, subject, action, resource, expected) => {
      expect(await allowed({ subject, action: { name: action }, resource, context: at })).toBe(expected);
    });
  });

  describe('attribute rules (ABAC)', () => {
    it('a sensor may publish its telemetry but not unlock', async () => {
      expect(await decide({ subject: sensor, action: { name: 'device.telemetry.publish' }, resource: sensorItself })).toMatchObject({
        allow: true,
        reasons: ['role sensor permits device.telemetry.publish'],
        ttlSeconds: 60,
      });
      const unlock = await decide({ subject: sensor, action: { name: 'device.command.unlock' }, resource: lock() });
      expect(unlock).toEqual({
        allow: false,
        reasons: ['no_permission: no role of the subject permits device.command.unlock on this resource', 'scope_missing: the token lacks scope lock:unlock'],
        policyVersion: expect.stringMatching(/^b0\.d0@/),
      });
    });

    it('an operator (bound in the tenants file) may suspend devices only in their site', async () => {
      const olga = user('olga');
      expect(await allowed({ subject: olga, action: { name: 'devices.suspend' }, resource: lock() })).toBe(true);
      const geneva = await decide({ subject: olga, action: { name: 'devices.suspend' }, resource: lock({ site: 'geneva' }) });
      expect(geneva.allow).toBe(false);
      expect(geneva.reasons).toContain("out_of_scope: role operator permits devices.suspend only on resources at the subject's own sites");
    });

    it("bianca's delegated unlock is allowed inside the grant's window and denied outside it", async () => {
      const unlock = (time: string) => decide({ subject: adamForBianca, action: { name: 'device.command.unlock' }, resource: lock(), context: { time, grant: eveningGrant } });
      expect(await unlock(THURSDAY_EVENING)).toMatchObject({ allow: true, obligations: { audit: { act: { sub: 'bianca' } } } });
      expect(await unlock(THURSDAY_MORNING)).toMatchObject({ allow: false, reasons: ['grant_outside_time_of_day: the grant allows 18:00-22:00 (Europe/Zurich)'] });
      expect((await unlock('2026-11-20T18:30:00Z')).reasons).toEqual(['grant_outside_weekdays: the grant allows thu (Europe/Zurich)']);
      expect((await unlock('2026-12-03T18:30:00Z')).reasons).toContain('grant_outside_validity: the grant is valid from 2026-11-01T00:00:00Z until 2026-12-01T00:00:00Z');
      // Without its grant, a delegated token gets nothing; nor may it do what the grant does not name.
      expect((await decide({ subject: adamForBianca, action: { name: 'device.command.unlock' }, resource: lock(), context: { time: THURSDAY_EVENING } })).allow).toBe(false);
      expect(
        (await decide({ subject: { ...adamForBianca, scopes: ['devices:write'] }, action: { name: 'devices.suspend' }, resource: lock(), context: { time: THURSDAY_EVENING, grant: eveningGrant } }))
          .reasons,
      ).toContain('not_delegable: devices.suspend cannot be done with a delegated token');
    });

    it('firmware and device status', async () => {
      const owner = user('adam', ['device-owner']);
      expect((await decide({ subject: owner, action: { name: 'device.command.configure' }, resource: lock({ firmwareVersion: '0.9.1' }) })).reasons).toEqual([
        'firmware_outdated: the device runs 0.9.1; device.command.configure needs firmware 1.0.0 or later',
      ]);
      expect((await decide({ subject: owner, action: { name: 'device.command.unlock' }, resource: lock({ status: 'suspended' }) })).reasons).toEqual([
        'device_not_active: device.command.unlock needs an active device (it is suspended)',
      ]);
    });
  });

  describe('the decision point', () => {
    it('answers a batch in order', async () => {
      const { results } = await cluster.client.send(DecideBatch, {
        tenant: 'demo',
        decisions: [
          { subject: user('vic', ['viewer']), action: { name: 'devices.read' }, resource: lock() },
          { subject: user('vic', ['viewer']), action: { name: 'devices.suspend' }, resource: lock() },
          { subject: sensor, action: { name: 'device.telemetry.publish' }, resource: sensorItself },
        ],
      });
      expect(results.map((r) => r.allow)).toEqual([true, false, true]);
      expect(results[0]).toMatchObject({ ttlSeconds: 30 });
      expect(results[1]!.ttlSeconds).toBeUndefined();
    });

    it('refuses malformed input, oversized batches and unknown tenants', async () => {
      const valid = { subject: user('vic', ['viewer']), action: { name: 'devices.read' }, resource: lock() };
      // A token has no place in a decision input: the schema refuses it rather than carrying it into logs.
      const withToken = { ...valid, subject: { ...valid.subject, token: SECRET } };
      expect((await failureOf(cluster.client.send(Decide, { tenant: 'demo', ...withToken } as never))).code).toBe('invalid_request');
      expect((await failureOf(cluster.client.send(DecideBatch, { tenant: 'demo', decisions: Array.from({ length: 101 }, () => valid) }))).code).toBe('invalid_request');
      expect((await failureOf(decide(valid, 'nowhere'))).code).toBe('tenant_not_found');
    });

    it('logs every decision on JetStream: digest, result, policy version, latency; never attributes or tokens', async () => {
      const { policyVersion } = await decide({
        subject: { ...user('vic', ['viewer']), attributes: { note: SECRET } },
        action: { name: 'devices.read' },
        resource: { type: 'device', id: 'logged-device', attributes: { secret: SECRET } },
        context: { attributes: { authorization: `Bearer ${SECRET}` } },
      });
      await eventually(() => logged.some((event) => event.decisions.some((d) => d.resource.id === 'logged-device')), 'the decision in the log');
      const event = logged.find((e) => e.decisions.some((d) => d.resource.id === 'logged-device'))!;
      expect(event.tenant).toBe('demo');
      expect(event.decisions.find((d) => d.resource.id === 'logged-device')).toEqual({
        decisionId: expect.any(String),
        at: expect.any(String),
        inputDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        subject: { type: 'user', id: 'vic' },
        action: 'devices.read',
        resource: { type: 'device', id: 'logged-device' },
        allow: true,
        reasons: ['role viewer permits devices.read'],
        policyVersion,
        latencyUs: expect.any(Number),
      });
      await eventually(() => rawDecisionEvents.some((text) => text.includes('logged-device')), 'the raw event');
      expect(rawDecisionEvents.join('\n')).not.toContain('never-logged');
      const total = logged.reduce((n, e) => n + e.decisions.length, 0);
      expect(total).toBeGreaterThan(10);
    });
  });

  describe('per-tenant policies, hot', () => {
    const read = { subject: user('vic', ['viewer']), action: { name: 'devices.read' }, resource: lock() };
    const suspend = { subject: user('ada', ['admin']), action: { name: 'devices.suspend' }, resource: lock() };

    it('a tenant bundle takes effect on every replica without a restart; other tenants keep theirs', async () => {
      expect(onEveryReplica('acme', suspend).map((r) => r.allow)).toEqual([true, true]);
      const status = await cluster.client.send(ActivatePolicyBundle, {
        tenant: 'acme',
        actor: root,
        bundle: maintenanceBundle().toString('base64'),
        data: { maintenance: { message: 'upgrading the fleet' } },
        reason: 'maintenance window',
      });
      expect(status).toMatchObject({ tenant: 'acme', bundle: { source: 'tenant', origin: 'admin-api', version: 1, activatedBy: root }, data: { version: 1 }, lastRejected: null });
      await eventually(() => onEveryReplica('acme', suspend).every((r) => r.policyVersion === status.policyVersion), 'both replicas on the new bundle');
      expect(onEveryReplica('acme', suspend)).toEqual([0, 1].map(() => ({ allow: false, reasons: ['maintenance: upgrading the fleet'], policyVersion: status.policyVersion })));
      expect(onEveryReplica('acme', read).map((r) => r.allow)).toEqual([true, true]);
      expect(onEveryReplica('demo', suspend).map((r) => r.allow)).toEqual([true, true]);
      await eventually(() => activations.some((a) => a.tenant === 'acme' && a.policyVersion === status.policyVersion), 'the activation event');
      expect(activations.find((a) => a.policyVersion === status.policyVersion)).toMatchObject({ kind: 'bundle', actor: root, bundleVersion: 1, dataVersion: 1 });
    });

    it('a broken bundle is rejected with a clear error while the active one keeps serving', async () => {
      const before = await cluster.client.send(GetPolicyStatus, { tenant: 'acme' });
      const error = await failureOf(cluster.client.send(ActivatePolicyBundle, { tenant: 'acme', actor: root, bundle: notAPolicyBundle().toString('base64') }));
      expect(error.toEnvelope()).toEqual({
        code: 'validation_failed',
        message: expect.stringContaining("policy bundle rejected, the active policy keeps serving: the bundle's policy.wasm is not an OPA policy"),
        details: { policyVersion: before.policyVersion },
      });
      const garbage = await failureOf(cluster.client.send(ActivatePolicyBundle, { tenant: 'acme', actor: root, bundle: Buffer.from('not a bundle').toString('base64') }));
      expect(garbage.message).toContain('the bundle is not a gzip archive');
      expect(onEveryReplica('acme', suspend).map((r) => r.policyVersion)).toEqual([before.policyVersion, before.policyVersion]);
      expect((await decide(suspend, 'acme')).reasons).toEqual(['maintenance: upgrading the fleet']);
      const after = await cluster.client.send(GetPolicyStatus, { tenant: 'acme' });
      expect(after).toMatchObject({ policyVersion: before.policyVersion, lastRejected: { actor: root, kind: 'bundle', error: expect.stringContaining('not a gzip archive') } });
    });

    it('data updates (merge patch) take effect on every replica, and malformed data is refused', async () => {
      const olgaInBern = { subject: user('olga'), action: { name: 'devices.suspend' }, resource: lock({ site: 'bern' }) };
      expect((await decide(olgaInBern)).allow).toBe(false);
      const status = await cluster.client.send(UpdatePolicyData, { tenant: 'demo', actor: root, patch: { bindings: { user: { olga: { sites: ['zurich', 'bern'] } } } } });
      expect(status.data).toMatchObject({ version: 1, activatedBy: root });
      await eventually(() => onEveryReplica('demo', olgaInBern).every((r) => r.allow), 'both replicas on the new data');
      const refused = await failureOf(cluster.client.send(UpdatePolicyData, { tenant: 'demo', actor: root, patch: { roles: { viewer: { permissions: 'all' } } } }));
      expect(refused).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('role viewer: permissions must be a list') });
      expect((await failureOf(cluster.client.send(UpdatePolicyData, { tenant: 'demo', actor: root, patch: { latchkey: {} } }))).code).toBe('invalid_request');
      expect(onEveryReplica('demo', olgaInBern).every((r) => r.allow && r.policyVersion === status.policyVersion)).toBe(true);
    });

    it('activations survive a restart (a new replica starts with them), and a tenant may go back to the default', async () => {
      const acme = await cluster.client.send(GetPolicyStatus, { tenant: 'acme' });
      const replica = await cluster.addReplica();
      expect(replica.get(DecisionPoint).decide('acme', { ...suspend, context: {} } as Parameters<DecisionPoint['decide']>[1]).policyVersion).toBe(acme.policyVersion);
      const back = await cluster.client.send(ActivatePolicyBundle, { tenant: 'acme', actor: root, useDefault: true, data: {} });
      expect(back).toMatchObject({ bundle: { source: 'default', origin: 'built-in', version: 2 }, data: { version: 2 } });
      await eventually(() => onEveryReplica('acme', suspend).every((r) => r.allow && r.policyVersion === back.policyVersion), 'all three replicas back on the default');
    });
  });

  it('reports its database in its health, over NATS', async () => {
    await expect(cluster.client.send(PolicyHealth, {})).resolves.toEqual({ service: 'policy', status: 'ok', checks: { database: { ok: true, latencyMs: expect.any(Number) } } });
  });
});
