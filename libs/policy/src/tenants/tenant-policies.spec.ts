import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { type Actor, ContractError, type EventContract } from '@latchkey/contracts';
import type { EventStream } from '@latchkey/messaging';
import { defaultData, defaultWasmWithData, maintenanceBundle, notAPolicyBundle } from '../bundles/bundle-kit.test.js';
import { DecisionLog } from '../decisions/decision-log.js';
import { DecisionPoint } from '../decisions/decision-point.js';
import { defaultBundle } from '../default-bundle/default-bundle.js';
import type { ActivationRecord, PolicyStore, StoredVersions } from './policy-store.js';
import { TenantPolicies } from './tenant-policies.js';

const admin: Actor = { type: 'user', id: 'root' };
const NOW = Date.parse('2026-11-19T18:30:00Z');
const tenants = parseTenants(`
tenants:
  - id: demo
    policy:
      data:
        bindings: { user: { olga: { roles: [operator], sites: [zurich] } } }
  - id: other
`);

/** PolicyStore in memory: the same rows and the same conflict on a version taken twice. */
class MemoryStore {
  bundles: { tenant: string; version: number; bundle: Uint8Array | null; digest: string | null; actorType: string; actorId: string; createdAt: Date }[] = [];
  data: { tenant: string; version: number; data: unknown; actorType: string; actorId: string; createdAt: Date }[] = [];
  rejections = new Map<string, { kind: string; error: string; actorType: string; actorId: string; at: Date }>();

  async latest(tenant: string) {
    const last = <T extends { tenant: string; version: number }>(rows: T[]) => rows.filter((r) => r.tenant === tenant).sort((a, b) => b.version - a.version)[0] ?? null;
    return { bundle: last(this.bundles), data: last(this.data) };
  }

  async versions() {
    const versions = new Map<string, StoredVersions>();
    for (const row of this.bundles) versions.set(row.tenant, { data: 0, ...versions.get(row.tenant), bundle: Math.max(row.version, versions.get(row.tenant)?.bundle ?? 0) });
    for (const row of this.data) versions.set(row.tenant, { bundle: 0, ...versions.get(row.tenant), data: Math.max(row.version, versions.get(row.tenant)?.data ?? 0) });
    return versions;
  }

  async record(tenant: string, actor: Actor, _reason: string | undefined, activation: ActivationRecord) {
    const taken = (rows: { tenant: string; version: number }[], version: number) => rows.some((r) => r.tenant === tenant && r.version === version);
    if ((activation.bundle && taken(this.bundles, activation.bundle.version)) || (activation.data && taken(this.data, activation.data.version))) {
      throw new ContractError('conflict', 'version taken');
    }
    const who = { actorType: actor.type, actorId: actor.id, createdAt: new Date(NOW) };
    if (activation.bundle) this.bundles.push({ tenant, version: activation.bundle.version, bundle: activation.bundle.archive, digest: activation.bundle.digest, ...who });
    if (activation.data) this.data.push({ tenant, version: activation.data.version, data: activation.data.overlay, ...who });
    return {};
  }

  async recordRejection(tenant: string, actor: Actor, kind: string, error: string, at: Date) {
    this.rejections.set(tenant, { kind, error, actorType: actor.type, actorId: actor.id, at });
  }

  async rejection(tenant: string) {
    const rejection = this.rejections.get(tenant);
    return rejection ? { tenant, ...rejection } : null;
  }
}

class RecordingStream {
  published: { subject: string; payload: unknown }[] = [];
  async publish(contract: EventContract, payload: unknown) {
    this.published.push({ subject: contract.subject, payload });
  }
  async publishRaw(subject: string, payload: unknown) {
    this.published.push({ subject, payload });
  }
}

const lock = { type: 'device', id: 'dev-1', attributes: { site: 'zurich', status: 'active' } };
const ask = (subject: object, name = 'devices.suspend') => ({ subject: { type: 'user' as const, id: 'x', ...subject }, action: { name }, resource: lock, context: {} });

describe('tenant policies', () => {
  let store: MemoryStore;
  let stream: RecordingStream;
  let policies: TenantPolicies;
  let decisions: DecisionPoint;

  const replica = async () => {
    const instance = new TenantPolicies(tenants, store as unknown as PolicyStore, stream as unknown as EventStream, defaultBundle(), () => NOW);
    await instance.load();
    return instance;
  };

  beforeEach(async () => {
    store = new MemoryStore();
    stream = new RecordingStream();
    policies = await replica();
    decisions = new DecisionPoint(policies, new DecisionLog(stream as unknown as EventStream, { flushMs: 1 }), () => NOW);
  });

  it('start with the default bundle and the tenants file\'s data', async () => {
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    expect(decisions.decide('other', ask({ id: 'olga' })).allow).toBe(false);
    const status = await policies.status('demo');
    expect(status).toMatchObject({ tenant: 'demo', bundle: { source: 'default', origin: 'built-in', version: 0, activatedAt: null }, data: { version: 0 }, lastRejected: null });
    expect(status.policyVersion).toMatch(/^b0\.d0@[0-9a-f]{8}\.[0-9a-f]{8}$/);
    // Same bundle, different data: the version says so.
    expect((await policies.status('other')).policyVersion.split('.')[2]).not.toBe(status.policyVersion.split('.')[2]);
    expect(() => policies.get('nobody')).toThrow('unknown tenant nobody');
  });

  it('take a tenant\'s bundle from the tenants file, and refuse to start with a broken one', async () => {
    const fixture = fileURLToPath(new URL('../../fixtures/maintenance.tar.gz', import.meta.url));
    const withFile = parseTenants(`tenants:\n  - id: demo\n    policy:\n      bundleFile: ${fixture}\n      data: { maintenance: { message: from the file } }\n`);
    const fromFile = new TenantPolicies(withFile, store as unknown as PolicyStore, stream as unknown as EventStream, defaultBundle(), () => NOW);
    await fromFile.load();
    expect((await fromFile.status('demo')).bundle).toMatchObject({ source: 'tenant', origin: 'tenants-file', version: 0 });
    const point = new DecisionPoint(fromFile, new DecisionLog(stream as unknown as EventStream), () => NOW);
    expect(point.decide('demo', ask({ roles: ['admin'] })).reasons).toEqual(['maintenance: from the file']);
    const broken = parseTenants(`tenants:\n  - id: demo\n    policy:\n      bundleFile: ${fileURLToPath(import.meta.url)}\n`);
    await expect(new TenantPolicies(broken, store as unknown as PolicyStore, stream as unknown as EventStream, defaultBundle(), () => NOW).load()).rejects.toThrow(
      /tenant demo: policy.bundleFile .* cannot be used: the bundle is not a gzip archive/,
    );
  });

  it('activate a tenant bundle, announce it, and keep it for a new replica', async () => {
    const status = await policies.activate('demo', admin, { archive: maintenanceBundle(), data: { maintenance: { message: 'upgrade' } } }, 'upgrade');
    expect(status).toMatchObject({ bundle: { source: 'tenant', origin: 'admin-api', version: 1, activatedBy: admin }, data: { version: 1 } });
    expect(decisions.decide('demo', ask({ id: 'olga' }))).toMatchObject({ allow: false, reasons: ['maintenance: upgrade'], policyVersion: status.policyVersion });
    expect(decisions.decide('other', ask({ roles: ['admin'] })).allow).toBe(true);
    expect(stream.published.filter((e) => e.subject === 'latchkey.events.policy.activated')).toEqual([
      { subject: 'latchkey.events.policy.activated', payload: expect.objectContaining({ tenant: 'demo', kind: 'bundle', bundleVersion: 1, dataVersion: 1, policyVersion: status.policyVersion }) },
    ]);
    const restarted = await replica();
    expect((await restarted.status('demo')).policyVersion).toBe(status.policyVersion);
  });

  it('reject a broken bundle with a clear error, record it, and keep serving the active policy', async () => {
    const before = await policies.status('demo');
    const error = await policies.activate('demo', admin, { archive: notAPolicyBundle() }).catch((e: unknown) => e as ContractError);
    expect(error).toBeInstanceOf(ContractError);
    expect((error as ContractError).toEnvelope()).toEqual({
      code: 'validation_failed',
      message: expect.stringMatching(/^policy bundle rejected, the active policy keeps serving: the bundle's policy.wasm is not an OPA policy/),
      details: { policyVersion: before.policyVersion },
    });
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    const after = await policies.status('demo');
    expect(after.policyVersion).toBe(before.policyVersion);
    expect(after.lastRejected).toEqual({ at: new Date(NOW).toISOString(), actor: admin, kind: 'bundle', error: expect.stringContaining('not an OPA policy') });
    expect(store.bundles).toEqual([]);
  });

  it('reject data the policy finds malformed (its data_errors) and keep the old data', async () => {
    const error = await policies.updateData('demo', admin, { roles: { operator: { permissions: 'everything' } } }).catch((e: unknown) => e as ContractError);
    expect(error).toMatchObject({ code: 'validation_failed', message: 'policy data rejected, the active policy keeps serving: the policy data has errors: role operator: permissions must be a list' });
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    expect((await policies.status('demo')).lastRejected).toMatchObject({ kind: 'data', error: expect.stringContaining('permissions must be a list') });
  });

  it('reject a bundle whose policy fails its smoke decision', async () => {
    // Without its message, the maintenance policy has no `reasons` for a denial: its decision is undefined.
    const error = await policies.activate('demo', admin, { archive: maintenanceBundle(), data: { maintenance: null } }).catch((e: unknown) => e as ContractError);
    expect(error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('the policy failed its smoke decision: latchkey/authz/decision is undefined for this input') });
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    const relabelled = await policies.activate('demo', admin, { archive: defaultWasmWithData({ ...defaultData(), roles: {} }) });
    expect(relabelled.bundle.version).toBe(1);
    expect(decisions.decide('demo', ask({ roles: ['admin'] })).reasons).toEqual(['no_permission: no role of the subject permits devices.suspend on this resource']);
  });

  it('update data by merge patch, incrementally over the overlay', async () => {
    await policies.updateData('demo', admin, { bindings: { user: { vic: { roles: ['viewer'] } } } });
    const status = await policies.updateData('demo', admin, { bindings: { user: { olga: null } } });
    expect(status.data).toMatchObject({ version: 2, activatedBy: admin });
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(false);
    expect(decisions.decide('demo', ask({ id: 'vic' }, 'devices.read')).allow).toBe(true);
  });

  it('reload what another replica activated, on a signal or on the periodic check', async () => {
    const other = await replica();
    const status = await other.activate('demo', admin, { data: { bindings: { user: { olga: null } } } });
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    await policies.refreshChanged();
    expect(decisions.decide('demo', ask({ id: 'olga' }))).toMatchObject({ allow: false, policyVersion: status.policyVersion });
    await other.activate('demo', admin, { useDefault: true, data: {} });
    await policies.refresh('demo');
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(true);
    expect((await policies.status('demo')).bundle).toMatchObject({ source: 'default', origin: 'built-in', version: 1 });
  });

  it('build on what another replica stored before (it reloads first)', async () => {
    const other = await replica();
    await other.updateData('demo', admin, { bindings: { user: { vic: { roles: ['viewer'] } } } });
    const status = await policies.updateData('demo', admin, { bindings: { user: { olga: null } } });
    expect(status.data.version).toBe(2);
    expect(decisions.decide('demo', ask({ id: 'vic' }, 'devices.read')).allow).toBe(true);
    expect(decisions.decide('demo', ask({ id: 'olga' })).allow).toBe(false);
  });

  it('answer two activations racing for the same version with conflict, keeping the winner', async () => {
    const other = await replica();
    const record = store.record.bind(store);
    // The other replica commits between this one's reload and its own commit.
    store.record = async (...args: Parameters<MemoryStore['record']>) => {
      store.record = record;
      await other.updateData('demo', admin, { won: true });
      return record(...args);
    };
    const error = await policies.updateData('demo', admin, { lost: true }).catch((e: unknown) => e as ContractError);
    expect(error).toMatchObject({ code: 'conflict' });
    await policies.refresh('demo');
    expect((await policies.status('demo')).policyVersion).toBe((await other.status('demo')).policyVersion);
  });
});
