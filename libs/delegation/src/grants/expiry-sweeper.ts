import type { TenantDirectory } from '@latchkey/config';
import type { Actor } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import type { GrantStore } from './grant-store.js';

/** The actor of what the service does by itself (expiry, device events). */
export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'delegation' };

export const DEFAULT_EXPIRY_BATCH = 200;

/**
 * Turns active grants past their expiry into `expired`, with an audit record and an `expired` event
 * each. Safe with replicas: each batch locks its grants `FOR UPDATE SKIP LOCKED`, so two sweepers take
 * different grants and neither waits. A grant past its expiry is unusable before it is swept (every use
 * checks the window); the sweep is what tells the rest of the platform. Re-delegations never outlive
 * their parent, so they are due as well and no cascade is needed.
 */
export class ExpirySweeper {
  constructor(
    private readonly store: GrantStore,
    private readonly tenants: TenantDirectory,
    private readonly clock: Clock,
    private readonly batchSize = DEFAULT_EXPIRY_BATCH,
  ) {}

  /** Resolves to the number of grants expired, over every tenant. */
  async sweep(): Promise<number> {
    let total = 0;
    for (const { id } of this.tenants.all()) {
      for (;;) {
        const expired = await this.sweepBatch(id);
        total += expired;
        if (expired < this.batchSize) break;
      }
    }
    return total;
  }

  private async sweepBatch(tenant: string): Promise<number> {
    if (!(await this.store.anyExpired(tenant, new Date(this.clock())))) return 0;
    return this.store.write(async (tx) => {
      const now = new Date(this.clock());
      const due = await this.store.lockExpired(tx, tenant, now, this.batchSize);
      if (!due.length) return 0;
      const ended = await this.store.end(
        tx,
        tenant,
        due.map((grant) => ({ id: grant.id, reason: 'the grant reached its expiry' })),
        'expired',
        SYSTEM_ACTOR,
        now,
      );
      await this.store.record(
        tx,
        ended.map((grant) => ({ grant, event: 'expired' as const, actor: SYSTEM_ACTOR, at: now, reason: grant.reason, details: { expiresAt: grant.expiresAt.toISOString() } })),
      );
      return due.length;
    });
  }
}
