import { type Actor, ContractError } from '@latchkey/contracts';
import { Prisma, type RejectedActivation, type TenantBundle, type TenantData } from '../generated/prisma/client.js';
import type { PolicyDatabase } from '../policy.prisma.js';
import type { JsonObject } from './json-merge.js';

/** Activations kept per tenant and kind; older rows are deleted (the highest version is the active one). */
export const KEPT_VERSIONS = 20;

/** A tenant's versions in the database: 0 when nothing was ever activated through the admin API. */
export interface StoredVersions {
  bundle: number;
  data: number;
}

/** What one activation writes: a bundle version (null archive: back to the default) and/or a data version. */
export interface ActivationRecord {
  bundle?: { version: number; archive: Uint8Array | null; digest: string | null };
  data?: { version: number; overlay: JsonObject };
}

/**
 * The policy service's tables: every activation is a new (tenant, version) row, the highest being the
 * active one, so that every replica reaches the same policy and a restart keeps it. Two activations of
 * the same version (two replicas at once) cannot both commit: the second is `conflict`.
 */
export class PolicyStore {
  constructor(private readonly db: PolicyDatabase) {}

  async latest(tenant: string): Promise<{ bundle: TenantBundle | null; data: TenantData | null }> {
    const [bundle, data] = await Promise.all([
      this.db.prisma.tenantBundle.findFirst({ where: { tenant }, orderBy: { version: 'desc' } }),
      this.db.prisma.tenantData.findFirst({ where: { tenant }, orderBy: { version: 'desc' } }),
    ]);
    return { bundle, data };
  }

  /** Every tenant's current versions: two index-only aggregates, cheap enough to poll. */
  async versions(): Promise<Map<string, StoredVersions>> {
    const [bundles, data] = await Promise.all([
      this.db.prisma.tenantBundle.groupBy({ by: ['tenant'], _max: { version: true } }),
      this.db.prisma.tenantData.groupBy({ by: ['tenant'], _max: { version: true } }),
    ]);
    const versions = new Map<string, StoredVersions>();
    const entry = (tenant: string) => versions.get(tenant) ?? versions.set(tenant, { bundle: 0, data: 0 }).get(tenant)!;
    for (const row of bundles) entry(row.tenant).bundle = row._max.version ?? 0;
    for (const row of data) entry(row.tenant).data = row._max.version ?? 0;
    return versions;
  }

  async record(tenant: string, actor: Actor, reason: string | undefined, activation: ActivationRecord): Promise<{ bundle?: TenantBundle; data?: TenantData }> {
    const who = { actorType: actor.type, actorId: actor.id, reason: reason ?? null };
    try {
      return await this.db.prisma.$transaction(async (tx) => {
        const bundle = activation.bundle
          ? await tx.tenantBundle.create({
              data: {
                tenant,
                version: activation.bundle.version,
                bundle: activation.bundle.archive ? new Uint8Array(activation.bundle.archive) : null,
                digest: activation.bundle.digest,
                ...who,
              },
            })
          : undefined;
        const data = activation.data
          ? await tx.tenantData.create({ data: { tenant, version: activation.data.version, data: activation.data.overlay as Prisma.InputJsonObject, ...who } })
          : undefined;
        // History for the record, bounded: a bundle row may weigh hundreds of KiB.
        if (bundle) await tx.tenantBundle.deleteMany({ where: { tenant, version: { lte: bundle.version - KEPT_VERSIONS } } });
        if (data) await tx.tenantData.deleteMany({ where: { tenant, version: { lte: data.version - KEPT_VERSIONS } } });
        return { bundle, data };
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new ContractError('conflict', 'the tenant\'s policy was changed at the same moment by another request: read the status and try again');
      }
      throw error;
    }
  }

  async recordRejection(tenant: string, actor: Actor, kind: 'bundle' | 'data', error: string, at: Date): Promise<void> {
    const row = { kind, error: error.slice(0, 2000), actorType: actor.type, actorId: actor.id, at };
    await this.db.prisma.rejectedActivation.upsert({ where: { tenant }, create: { tenant, ...row }, update: row });
  }

  rejection(tenant: string): Promise<RejectedActivation | null> {
    return this.db.prisma.rejectedActivation.findUnique({ where: { tenant } });
  }
}
