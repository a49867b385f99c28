import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, type TenantConfig, TenantDirectory, type TenantsFile } from '@latchkey/config';
import { type Actor, ContractError, PolicyActivated, type PolicyStatus } from '@latchkey/contracts';
import type { EventStream } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import { PolicyValidationError } from '../bundles/bundle-archive.js';
import type { Clock } from '../clock.js';
import { canonicalJson } from '../decisions/canonical-json.js';
import { describeThrown, CompiledBundle, type PolicyInstance } from '../wasm/compiled-policy.js';
import { composeOverlay, type JsonObject, mergePatch } from './json-merge.js';
import type { PolicyStore, StoredVersions } from './policy-store.js';

type Origin = PolicyStatus['bundle']['origin'];

interface Activation {
  version: number;
  at: Date | null;
  by: Actor | null;
}

/** A tenant's policy as it decides now: one Wasm instance holding the tenant's effective data. */
export interface ActivePolicy {
  readonly tenant: string;
  /** Null when the tenant's stored policy could not be loaded at all: every decision is then denied. */
  readonly instance: PolicyInstance | null;
  readonly unavailable?: string;
  readonly policyVersion: string;
  readonly bundle: CompiledBundle;
  readonly origin: Origin;
  readonly bundleActivation: Activation;
  readonly dataActivation: Activation;
  /** The admin API's data overlay (merged over the bundle's and the tenants file's data). */
  readonly overlay: JsonObject;
}

interface Candidate {
  bundle: CompiledBundle;
  origin: Origin;
  bundleActivation: Activation;
  dataActivation: Activation;
  overlay: JsonObject;
}

/** Two decisions every candidate must answer before it may replace the active policy. */
function smokeInputs(tenant: string, now: string): unknown[] {
  const lock = { type: 'device', id: 'policy-smoke-test', attributes: { serial: 'policy-smoke-test', status: 'active' } };
  return [
    { tenant, subject: { type: 'user', id: 'policy-smoke-test' }, action: { name: 'devices.read' }, resource: lock, context: { time: now } },
    {
      tenant,
      subject: { type: 'user', id: 'policy-smoke-test', roles: ['device-owner'], act: { sub: 'policy-smoke-delegatee' }, gid: 'smoke' },
      action: { name: 'device.command.unlock' },
      resource: lock,
      context: {
        time: now,
        grant: {
          id: 'smoke',
          resource: 'device:policy-smoke-test',
          scopes: ['lock:unlock'],
          notBefore: now,
          expiresAt: now,
          constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon'], timeOfDay: { from: '08:00', to: '18:00' } },
        },
      },
    },
  ];
}

function unavailableError(policy: ActivePolicy): ContractError {
  return new ContractError('conflict', `the tenant's stored policy bundle cannot be loaded (${policy.unavailable ?? 'unknown'}): activate a bundle or useDefault first`);
}

const NO_ACTIVATION: Activation = { version: 0, at: null, by: null };
const logger = new Logger('TenantPolicies');

function actorOf(row: { actorType: string; actorId: string }): Actor {
  return { type: row.actorType as Actor['type'], id: row.actorId };
}

function shortDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * Every tenant's active policy, and the only way to change one. Precedence: the bundle last activated
 * through the admin API (database), else the tenants file's `policy.bundleFile`, else the built-in
 * default; data = the bundle's data.json ⊕ the tenants file's `policy.data` ⊕ the admin API's overlay.
 * A candidate is compiled, loaded with its data and evaluated (smoke decisions) before it replaces the
 * active policy; until then, and whenever it fails, the active one keeps serving. Changes of one tenant
 * happen one after another; other tenants are not touched.
 */
export class TenantPolicies {
  private readonly directory: TenantDirectory;
  private readonly active = new Map<string, ActivePolicy>();
  /** The bundle a tenant falls back to without an admin-API bundle (default or tenants file). */
  private readonly baseBundles = new Map<string, { bundle: CompiledBundle; origin: Origin }>();
  /** Compiled bundles by digest: compiled once, whatever number of tenants run them. */
  private readonly compiled = new Map<string, Promise<CompiledBundle>>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private defaultBundle?: CompiledBundle;

  constructor(
    private readonly tenants: TenantsFile,
    private readonly store: PolicyStore,
    private readonly events: EventStream,
    private readonly defaultArchive: Uint8Array,
    private readonly clock: Clock,
  ) {
    this.directory = new TenantDirectory(tenants);
  }

  /** At start: the default and tenants-file bundles (a broken one stops the start), then what the database holds. */
  async load(): Promise<void> {
    this.defaultBundle = await this.compile(this.defaultArchive).catch((error: unknown) => {
      throw new Error(`the built-in policy bundle cannot be loaded (run npm run policy:build): ${describeThrown(error)}`);
    });
    for (const tenant of this.tenants.tenants) {
      this.baseBundles.set(tenant.id, await this.baseBundleOf(tenant));
    }
    await Promise.all(this.tenants.tenants.map((tenant) => this.serialized(tenant.id, () => this.reload(tenant.id, { atStart: true }))));
  }

  /** The active policy of a tenant this deployment serves; `tenant_not_found` otherwise. */
  get(tenant: string): ActivePolicy {
    const policy = this.active.get(tenant);
    if (policy) return policy;
    this.directory.get(tenant);
    throw new ContractError('unavailable', `the policy of tenant ${tenant} is not loaded yet`);
  }

  /** Reloads a tenant from the database if another replica changed it (an activation signal, or the periodic check). */
  refresh(tenant: string): Promise<void> {
    if (!this.active.has(tenant)) return Promise.resolve();
    return this.serialized(tenant, () => this.reload(tenant));
  }

  /** Reloads every tenant whose stored versions differ from the active ones. */
  async refreshChanged(): Promise<void> {
    const stored = await this.store.versions();
    const changed = [...this.active.values()].filter((policy) => {
      const versions: StoredVersions = stored.get(policy.tenant) ?? { bundle: 0, data: 0 };
      return versions.bundle !== policy.bundleActivation.version || versions.data !== policy.dataActivation.version;
    });
    await Promise.all(changed.map((policy) => this.refresh(policy.tenant)));
  }

  async status(tenant: string): Promise<PolicyStatus> {
    const policy = this.get(tenant);
    const rejected = await this.store.rejection(tenant);
    return this.statusOf(policy, rejected && { at: rejected.at.toISOString(), actor: actorOf(rejected), kind: rejected.kind as 'bundle' | 'data', error: rejected.error });
  }

  /** ActivatePolicyBundle: a new bundle, the default again, and/or a whole new data overlay. */
  activate(tenant: string, actor: Actor, change: { archive?: Uint8Array; useDefault?: boolean; data?: JsonObject }, reason?: string): Promise<PolicyStatus> {
    this.directory.get(tenant);
    return this.serialized(tenant, async () => {
      await this.reload(tenant);
      const current = this.get(tenant);
      const kind = change.archive || change.useDefault ? 'bundle' : 'data';
      if (current.unavailable && kind === 'data') throw unavailableError(current);
      const now = new Date(this.clock());
      let candidate: Candidate;
      try {
        const base = this.baseBundles.get(tenant)!;
        const bundle = change.archive ? await this.compile(change.archive) : change.useDefault ? base.bundle : current.bundle;
        candidate = {
          bundle,
          origin: change.archive ? 'admin-api' : change.useDefault ? base.origin : current.origin,
          bundleActivation: kind === 'bundle' ? { version: current.bundleActivation.version + 1, at: now, by: actor } : current.bundleActivation,
          dataActivation: change.data ? { version: current.dataActivation.version + 1, at: now, by: actor } : current.dataActivation,
          overlay: change.data ?? current.overlay,
        };
      } catch (error) {
        throw await this.rejected(tenant, actor, kind, error, now);
      }
      const next = await this.instantiate(tenant, candidate).catch(async (error: unknown) => {
        throw await this.rejected(tenant, actor, kind, error, now);
      });
      await this.store.record(tenant, actor, reason, {
        bundle: kind === 'bundle' ? { version: candidate.bundleActivation.version, archive: change.archive ?? null, digest: change.archive ? candidate.bundle.digest : null } : undefined,
        data: change.data ? { version: candidate.dataActivation.version, overlay: candidate.overlay } : undefined,
      });
      this.swap(next);
      await this.announce(next, actor, change.archive ? 'bundle' : change.useDefault ? 'default' : 'data', now);
      return this.status(tenant);
    });
  }

  /** UpdatePolicyData: the overlay changed by a JSON merge patch, validated like an activation. */
  updateData(tenant: string, actor: Actor, patch: JsonObject, reason?: string): Promise<PolicyStatus> {
    this.directory.get(tenant);
    return this.serialized(tenant, async () => {
      await this.reload(tenant);
      const current = this.get(tenant);
      if (current.unavailable) throw unavailableError(current);
      const now = new Date(this.clock());
      const candidate: Candidate = {
        bundle: current.bundle,
        origin: current.origin,
        bundleActivation: current.bundleActivation,
        dataActivation: { version: current.dataActivation.version + 1, at: now, by: actor },
        overlay: composeOverlay(current.overlay, patch),
      };
      const next = await this.instantiate(tenant, candidate).catch(async (error: unknown) => {
        throw await this.rejected(tenant, actor, 'data', error, now);
      });
      await this.store.record(tenant, actor, reason, { data: { version: candidate.dataActivation.version, overlay: candidate.overlay } });
      this.swap(next);
      await this.announce(next, actor, 'data', now);
      return this.status(tenant);
    });
  }

  /** Loads what the database holds for a tenant, unless it is what is active already. */
  private async reload(tenant: string, { atStart = false } = {}): Promise<void> {
    const { bundle: bundleRow, data: dataRow } = await this.store.latest(tenant);
    const current = this.active.get(tenant);
    const bundleVersion = bundleRow?.version ?? 0;
    const dataVersion = dataRow?.version ?? 0;
    if (current && !current.unavailable && current.bundleActivation.version === bundleVersion && current.dataActivation.version === dataVersion) return;
    const base = this.baseBundles.get(tenant)!;
    try {
      const stored = bundleRow?.bundle ? await this.compile(bundleRow.bundle) : undefined;
      const next = await this.instantiate(tenant, {
        bundle: stored ?? base.bundle,
        origin: stored ? 'admin-api' : base.origin,
        bundleActivation: bundleRow ? { version: bundleRow.version, at: bundleRow.createdAt, by: actorOf(bundleRow) } : NO_ACTIVATION,
        dataActivation: dataRow ? { version: dataRow.version, at: dataRow.createdAt, by: actorOf(dataRow) } : NO_ACTIVATION,
        overlay: (dataRow?.data as JsonObject | undefined) ?? {},
      });
      this.swap(next);
      if (!atStart) logger.log(`tenant ${tenant}: now deciding with ${next.policyVersion}`);
    } catch (error) {
      const reason = describeThrown(error);
      if (current && !current.unavailable) {
        logger.error(`tenant ${tenant}: the stored policy (bundle v${bundleVersion}, data v${dataVersion}) cannot be loaded, ${current.policyVersion} keeps serving: ${reason}`);
        return;
      }
      // Nothing trustworthy to fall back to (the default may allow more than what was activated): deny.
      logger.error(`tenant ${tenant}: the stored policy cannot be loaded, every decision is denied until it can: ${reason}`);
      this.active.set(tenant, {
        tenant,
        instance: null,
        unavailable: reason,
        policyVersion: `b${bundleVersion}.d${dataVersion}@unavailable`,
        bundle: base.bundle,
        origin: 'admin-api',
        bundleActivation: bundleRow ? { version: bundleRow.version, at: bundleRow.createdAt, by: actorOf(bundleRow) } : NO_ACTIVATION,
        dataActivation: dataRow ? { version: dataRow.version, at: dataRow.createdAt, by: actorOf(dataRow) } : NO_ACTIVATION,
        overlay: {},
      });
    }
  }

  /** A candidate with its effective data loaded, that has answered the smoke decisions. */
  private async instantiate(tenant: string, candidate: Candidate): Promise<ActivePolicy> {
    const fileData = this.directory.get(tenant).policy?.data ?? {};
    const data = mergePatch(mergePatch(candidate.bundle.data, fileData), candidate.overlay) as JsonObject;
    const dataText = canonicalJson(data);
    const instance = await candidate.bundle.instantiate(data);
    const errors = instance.dataErrors();
    if (errors.length) throw new PolicyValidationError(`the policy data has errors: ${errors.slice(0, 5).join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''}`);
    for (const input of smokeInputs(tenant, new Date(this.clock()).toISOString())) {
      try {
        instance.evaluate(JSON.stringify(input));
      } catch (error) {
        throw new PolicyValidationError(`the policy failed its smoke decision: ${describeThrown(error)}`);
      }
    }
    const policyVersion = `b${candidate.bundleActivation.version}.d${candidate.dataActivation.version}@${candidate.bundle.digest.slice(0, 8)}.${shortDigest(dataText)}`;
    return { ...candidate, tenant, instance, policyVersion };
  }

  private swap(next: ActivePolicy): void {
    this.active.set(next.tenant, next);
    // Forget compiled bundles no tenant runs any more (the default and tenants-file ones always stay).
    const inUse = new Set([...this.active.values(), ...this.baseBundles.values()].map((policy) => policy.bundle.digest));
    for (const digest of this.compiled.keys()) if (!inUse.has(digest)) this.compiled.delete(digest);
  }

  private compile(archive: Uint8Array): Promise<CompiledBundle> {
    const digest = createHash('sha256').update(archive).digest('hex');
    let bundle = this.compiled.get(digest);
    if (!bundle) {
      bundle = CompiledBundle.compile(archive);
      this.compiled.set(digest, bundle);
      bundle.catch(() => this.compiled.delete(digest));
    }
    return bundle;
  }

  private async baseBundleOf(tenant: TenantConfig): Promise<{ bundle: CompiledBundle; origin: Origin }> {
    const file = tenant.policy?.bundleFile;
    if (!file) return { bundle: this.defaultBundle!, origin: 'built-in' };
    const path = resolve(file);
    const archive = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`tenant ${tenant.id}: cannot read policy.bundleFile ${path}: ${error.code ?? error.message}`);
    });
    const bundle = await this.compile(archive).catch((error: unknown) => {
      throw new ConfigError(`tenant ${tenant.id}: policy.bundleFile ${path} cannot be used: ${describeThrown(error)}`);
    });
    return { bundle, origin: 'tenants-file' };
  }

  /** Records the refusal (for the status) and turns it into the caller's `validation_failed`. */
  private async rejected(tenant: string, actor: Actor, kind: 'bundle' | 'data', error: unknown, at: Date): Promise<unknown> {
    if (!(error instanceof PolicyValidationError)) return error;
    await this.store.recordRejection(tenant, actor, kind, error.message, at).catch((failure: unknown) => logger.warn(`tenant ${tenant}: could not record a rejected activation: ${describeThrown(failure)}`));
    logger.warn(`tenant ${tenant}: ${kind} activation by ${actor.type} ${actor.id} rejected: ${error.message}`);
    return new ContractError('validation_failed', `${kind === 'bundle' ? 'policy bundle' : 'policy data'} rejected, the active policy keeps serving: ${error.message}`, {
      policyVersion: this.active.get(tenant)?.policyVersion,
    });
  }

  /** Tells every replica (and anyone auditing) that the tenant's policy changed. */
  private async announce(policy: ActivePolicy, actor: Actor, kind: 'bundle' | 'default' | 'data', at: Date): Promise<void> {
    const eventId = randomUUID();
    const payload = {
      eventId,
      tenant: policy.tenant,
      actor,
      at: at.toISOString(),
      kind,
      policyVersion: policy.policyVersion,
      bundleVersion: policy.bundleActivation.version,
      dataVersion: policy.dataActivation.version,
    };
    // Committed already: a lost event only delays the other replicas until their periodic check.
    await this.events.publish(PolicyActivated, payload, { messageId: eventId }).catch((error: unknown) => logger.warn(`tenant ${policy.tenant}: activation event not published: ${describeThrown(error)}`));
  }

  private statusOf(policy: ActivePolicy, lastRejected: PolicyStatus['lastRejected']): PolicyStatus {
    const when = (activation: Activation) => ({ activatedAt: activation.at?.toISOString() ?? null, activatedBy: activation.by });
    return {
      tenant: policy.tenant,
      policyVersion: policy.policyVersion,
      bundle: {
        source: policy.origin === 'built-in' ? 'default' : 'tenant',
        origin: policy.origin,
        version: policy.bundleActivation.version,
        digest: policy.bundle.digest,
        ...when(policy.bundleActivation),
      },
      data: { version: policy.dataActivation.version, ...when(policy.dataActivation) },
      lastRejected,
    };
  }

  private serialized<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(tenant) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(tenant, settled);
    void settled.then(() => {
      if (this.queues.get(tenant) === settled) this.queues.delete(tenant);
    });
    return next;
  }
}
