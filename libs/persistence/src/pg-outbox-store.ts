import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * `schema.table`, lower-case: the name is interpolated into SQL (identifiers cannot be parameters), so
 * nothing but this shape is accepted.
 */
const QUALIFIED_TABLE = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;

/**
 * First key of the two-key advisory locks taken here (the second is derived from the table), so they
 * cannot collide with the single-key locks of Prisma's migrations or with another feature's locks.
 */
const OUTBOX_LOCK_SPACE = 0x0b0c_5e1a;

/** An outbox row as the relay sees it (structurally `OutboxEntry` of @latchkey/messaging). */
export interface PendingOutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

interface RowWithSeq extends PendingOutboxRow {
  seq: string;
}

interface BatchOutcome {
  /** `null`: another relay holds the lock. */
  published: number | null;
  failure?: { error: unknown };
}

/**
 * A service's transactional outbox in PostgreSQL (docs/adr/0016-transactional-outbox-for-events.md).
 * The service's Prisma schema declares the table, with exactly these columns:
 *
 *   seq BIGSERIAL PRIMARY KEY, id UUID UNIQUE NOT NULL, subject TEXT NOT NULL, payload JSONB NOT NULL,
 *   created_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(), published_at TIMESTAMPTZ(3) NULL,
 *   and an index on (published_at, seq)
 *
 * and writes a row in the same transaction as the change the event reports. This store is the relay's
 * side: it implements `OutboxStore` of @latchkey/messaging (structurally; persistence does not depend on
 * messaging).
 */
export class PgOutboxStore {
  private readonly table: string;
  private readonly lockKey: number;

  constructor(
    private readonly pool: pg.Pool,
    qualifiedTable: string,
  ) {
    if (!QUALIFIED_TABLE.test(qualifiedTable)) throw new Error(`not a lower-case schema.table name: ${JSON.stringify(qualifiedTable)}`);
    this.table = qualifiedTable;
    this.lockKey = outboxLockKey(qualifiedTable);
  }

  /**
   * One batch in one transaction under a transaction-scoped advisory lock, so that one relay at a time
   * publishes and the order is kept. `try`, not wait: the relays that find it taken have nothing to do.
   * The lock ends with the transaction, also when the relay's connection dies.
   */
  async relayBatch(limit: number, publish: (entry: PendingOutboxRow) => Promise<void>): Promise<number | null> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The connection can die while the batch waits for the stream (a database restart): pg reports it on
    // the checked-out client as an 'error' event, which would crash the process unheard. The pending or
    // next query fails with it as well, and that failure is what the relay sees.
    const onConnectionError = (error: Error) => (broken = error);
    client.on('error', onConnectionError);
    let outcome: BatchOutcome;
    try {
      await client.query('BEGIN');
      outcome = await this.publishLocked(client, limit, publish);
      await client.query('COMMIT');
    } catch (error) {
      // A connection whose transaction cannot even be rolled back must not go back to the pool.
      broken ??= await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      throw error;
    } finally {
      client.off('error', onConnectionError);
      client.release(broken);
    }
    // Rethrown after the commit: what was published before the failure stays marked.
    if (outcome.failure) throw outcome.failure.error;
    return outcome.published;
  }

  private async publishLocked(client: pg.PoolClient, limit: number, publish: (entry: PendingOutboxRow) => Promise<void>): Promise<BatchOutcome> {
    const { rows: lock } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [OUTBOX_LOCK_SPACE, this.lockKey]);
    if (!lock[0].locked) return { published: null };
    const { rows } = await client.query<RowWithSeq>(`SELECT seq, id, subject, payload FROM ${this.table} WHERE published_at IS NULL ORDER BY seq LIMIT $1`, [limit]);
    const published: string[] = [];
    let failure: BatchOutcome['failure'];
    for (const row of rows) {
      try {
        await publish({ id: row.id, subject: row.subject, payload: row.payload });
      } catch (error) {
        failure = { error };
        break;
      }
      published.push(row.seq);
    }
    if (published.length) await client.query(`UPDATE ${this.table} SET published_at = now() WHERE seq = ANY($1::bigint[])`, [published]);
    return { published: published.length, failure };
  }

  async sweepPublished(olderThan: Date): Promise<number> {
    const result = await this.pool.query(`DELETE FROM ${this.table} WHERE published_at < $1`, [olderThan]);
    return result.rowCount ?? 0;
  }
}

/** The second advisory-lock key: the same for every replica of a service, different per outbox table. */
export function outboxLockKey(qualifiedTable: string): number {
  return createHash('sha256').update(qualifiedTable).digest().readInt32BE(0);
}
