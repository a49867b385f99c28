import type { Actor, GrantStatus } from '@latchkey/contracts';
import type pg from 'pg';
import { changeRows, type GrantChange } from './grant-changes.js';
import type { AuditRecordRow, GrantRecord } from './grant-record.js';

/** A pool or a client in a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Told after every committed change that wrote outbox rows: the relay publishes them without waiting for its poll. */
export interface OutboxSignal {
  kick(): void;
}

const GRANT = '"delegation"."grant"';

/** The grant columns under the names of `GrantRecord`. */
const COLUMNS = `id::text AS id, tenant, delegator_id AS "delegatorId", delegator_name AS "delegatorName", delegatee_type AS "delegateeType",
  delegatee_id AS "delegateeId", delegatee_name AS "delegateeName", resource, COALESCE(scopes, '{}') AS scopes, not_before AS "notBefore",
  expires_at AS "expiresAt", constraints, max_uses AS "maxUses", redelegation_allowed AS "redelegationAllowed",
  redelegation_max_depth AS "redelegationMaxDepth", depth, parent_id::text AS "parentId", COALESCE(ancestors::text[], '{}') AS ancestors,
  root_delegator_id AS "rootDelegatorId", status, uses, created_at AS "createdAt", updated_at AS "updatedAt", ended_at AS "endedAt",
  ended_by_type AS "endedByType", ended_by_id AS "endedById", reason`;

export interface ListFilter {
  role: 'delegator' | 'delegatee';
  party: { type: 'user' | 'client'; id: string };
  status?: GrantStatus;
  resource?: string;
  limit: number;
  /** Keyset: the (created_at, id) of the last item of the previous page. */
  before?: { createdAt: Date; id: string };
}

export interface CandidateFilter {
  resource?: string;
  /** The grant's own delegator (not the owner at the root of a re-delegation chain). */
  delegatorId?: string;
  grantId?: string;
}

/** The most grants a person's use-all (userinfo) or a candidate search looks at. */
export const MAX_CANDIDATES = 200;

/**
 * Reads and transactional writes of the delegation tables, in plain SQL over the service's pg pool (no
 * Prisma query engine in this service: docs/adr/0020). Every query names the tenant: a grant of another
 * tenant is not found, exactly like one that does not exist.
 */
export class GrantStore {
  /** Transactions that wrote outbox rows, so that only those kick the relay when they commit. */
  private readonly recorded = new WeakSet<Queryable>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly outbox: OutboxSignal,
  ) {}

  /** Runs `work` in one transaction; once it has committed, kicks the outbox relay. */
  async write<R>(work: (tx: Queryable) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      if (this.recorded.has(client)) this.outbox.kick();
      return result;
    } catch (error) {
      // A connection whose transaction cannot even be rolled back must not go back to the pool.
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      throw error;
    } finally {
      this.recorded.delete(client);
      client.release(broken);
    }
  }

  async find(tenant: string, id: string, q: Queryable = this.pool): Promise<GrantRecord | null> {
    const { rows } = await q.query<GrantRecord>(`SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND id = $2::uuid`, [tenant, id]);
    return rows[0] ?? null;
  }

  async findMany(tenant: string, ids: readonly string[], q: Queryable = this.pool): Promise<GrantRecord[]> {
    if (!ids.length) return [];
    const { rows } = await q.query<GrantRecord>(`SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND id = ANY($2::uuid[])`, [tenant, ids]);
    return rows;
  }

  /** The grant, its row locked until `tx` ends: changes of one grant happen one after the other. */
  async lock(tx: Queryable, tenant: string, id: string): Promise<GrantRecord | null> {
    const { rows } = await tx.query<GrantRecord>(`SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND id = $2::uuid FOR UPDATE`, [tenant, id]);
    return rows[0] ?? null;
  }

  /**
   * Share-locks grants (a new re-delegation's chain) root first, so that a concurrent revocation of any
   * of them either waits for the new grant — and then ends it too — or ends first and is seen here.
   */
  async lockShared(tx: Queryable, tenant: string, ids: readonly string[]): Promise<{ id: string; status: string }[]> {
    const { rows } = await tx.query<{ id: string; status: string }>(
      `SELECT id::text AS id, status FROM ${GRANT} WHERE tenant = $1 AND id = ANY($2::uuid[]) ORDER BY depth FOR SHARE`,
      [tenant, ids],
    );
    return rows;
  }

  /** The active grants re-delegated (at any depth) from `ids`, locked, shallowest first. */
  async lockActiveDescendants(tx: Queryable, tenant: string, ids: readonly string[]): Promise<GrantRecord[]> {
    if (!ids.length) return [];
    const { rows } = await tx.query<GrantRecord>(
      `WITH RECURSIVE tree AS (
         SELECT id FROM ${GRANT} WHERE tenant = $1 AND parent_id = ANY($2::uuid[])
         UNION
         SELECT child.id FROM ${GRANT} child JOIN tree ON child.parent_id = tree.id WHERE child.tenant = $1
       )
       SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND id IN (SELECT id FROM tree) AND status = 'active' ORDER BY depth, id FOR UPDATE`,
      [tenant, ids],
    );
    return rows;
  }

  async insert(tx: Queryable, grant: GrantRecord): Promise<void> {
    await tx.query(
      `INSERT INTO ${GRANT} (id, tenant, delegator_id, delegator_name, delegatee_type, delegatee_id, delegatee_name, resource, scopes, not_before,
         expires_at, constraints, max_uses, redelegation_allowed, redelegation_max_depth, depth, parent_id, ancestors, root_delegator_id, status,
         uses, created_at, updated_at)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11, $12::jsonb, $13, $14, $15, $16, $17::uuid, $18::uuid[], $19, $20, $21, $22, $23)`,
      [
        grant.id,
        grant.tenant,
        grant.delegatorId,
        grant.delegatorName,
        grant.delegateeType,
        grant.delegateeId,
        grant.delegateeName,
        grant.resource,
        grant.scopes,
        grant.notBefore,
        grant.expiresAt,
        grant.constraints ? JSON.stringify(grant.constraints) : null,
        grant.maxUses,
        grant.redelegationAllowed,
        grant.redelegationMaxDepth,
        grant.depth,
        grant.parentId,
        grant.ancestors,
        grant.rootDelegatorId,
        grant.status,
        grant.uses,
        grant.createdAt,
        grant.updatedAt,
      ],
    );
  }

  /** Ends active grants, each with its own reason; resolves to those it ended (an ended one stays as it is). */
  async end(tx: Queryable, tenant: string, endings: readonly { id: string; reason: string | null }[], status: Exclude<GrantStatus, 'active'>, actor: Actor, at: Date): Promise<GrantRecord[]> {
    if (!endings.length) return [];
    const { rows } = await tx.query<GrantRecord>(
      `UPDATE ${GRANT} SET status = $2, ended_at = $3, updated_at = $3, ended_by_type = $4, ended_by_id = $5, reason = ending.why
       FROM unnest($6::uuid[], $7::text[]) AS ending(grant_id, why)
       WHERE tenant = $1 AND id = ending.grant_id AND status = 'active'
       RETURNING ${COLUMNS}`,
      [tenant, status, at, actor.type, actor.id, endings.map((e) => e.id), endings.map((e) => e.reason)],
    );
    return rows;
  }

  /** Writes the audit records and outbox rows of `changes` with `tx`: two statements, whatever their number. */
  async record(tx: Queryable, changes: readonly GrantChange[]): Promise<void> {
    if (!changes.length) return;
    const { audit, outbox } = changeRows(changes);
    await tx.query(
      `INSERT INTO "delegation"."grant_audit" (tenant, grant_id, event, actor_type, actor_id, at, reason, details)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::jsonb[])`,
      [
        audit.map((a) => a.tenant),
        audit.map((a) => a.grantId),
        audit.map((a) => a.event),
        audit.map((a) => a.actor.type),
        audit.map((a) => a.actor.id),
        audit.map((a) => a.at.toISOString()),
        audit.map((a) => a.reason),
        audit.map((a) => JSON.stringify(a.details)),
      ],
    );
    await tx.query(`INSERT INTO "delegation"."outbox_event" (id, subject, payload) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`, [
      outbox.map((o) => o.id),
      outbox.map((o) => o.subject),
      outbox.map((o) => JSON.stringify(o.payload)),
    ]);
    this.recorded.add(tx);
  }

  /** A grant's audit trail, oldest first. */
  async audit(tenant: string, grantId: string): Promise<AuditRecordRow[]> {
    const { rows } = await this.pool.query<AuditRecordRow>(
      `SELECT id::text AS id, grant_id::text AS "grantId", event, actor_type AS "actorType", actor_id AS "actorId", at, reason, details
       FROM "delegation"."grant_audit" WHERE tenant = $1 AND grant_id = $2::uuid ORDER BY id`,
      [tenant, grantId],
    );
    return rows;
  }

  /** Newest first, one more than `limit` (so that the caller knows whether a next page exists). */
  async list(tenant: string, filter: ListFilter): Promise<GrantRecord[]> {
    const values: unknown[] = [tenant];
    const where = ['tenant = $1'];
    const param = (value: unknown) => `$${values.push(value)}`;
    if (filter.role === 'delegator') {
      // Only people share: an app is never a delegator.
      if (filter.party.type !== 'user') return [];
      where.push(`delegator_id = ${param(filter.party.id)}`);
    } else {
      where.push(`delegatee_type = ${param(filter.party.type)}`, `delegatee_id = ${param(filter.party.id)}`);
    }
    if (filter.status) where.push(`status = ${param(filter.status)}`);
    if (filter.resource) where.push(`resource = ${param(filter.resource)}`);
    if (filter.before) where.push(`(created_at, id) < (${param(filter.before.createdAt)}::timestamptz, ${param(filter.before.id)}::uuid)`);
    const { rows } = await this.pool.query<GrantRecord>(
      `SELECT ${COLUMNS} FROM ${GRANT} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${param(filter.limit + 1)}`,
      values,
    );
    return rows;
  }

  /** The delegatee's active grants (optionally narrowed), oldest first. */
  async activeGrantsOf(tenant: string, delegatee: { type: 'user' | 'client'; id: string }, filter: CandidateFilter = {}, q: Queryable = this.pool): Promise<GrantRecord[]> {
    const values: unknown[] = [tenant, delegatee.type, delegatee.id];
    const where = ['tenant = $1', 'delegatee_type = $2', 'delegatee_id = $3', `status = 'active'`];
    const param = (value: unknown) => `$${values.push(value)}`;
    if (filter.resource) where.push(`resource = ${param(filter.resource)}`);
    if (filter.grantId) where.push(`id = ${param(filter.grantId)}::uuid`);
    if (filter.delegatorId) where.push(`delegator_id = ${param(filter.delegatorId)}`);
    const { rows } = await q.query<GrantRecord>(`SELECT ${COLUMNS} FROM ${GRANT} WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${MAX_CANDIDATES}`, values);
    return rows;
  }

  /**
   * Counts one use on a grant and on every grant of its chain, atomically: all of them or none, and
   * only while each is active and below its `maxUses`. Resolves to the grants' new counts by id, or null
   * when any of them refused (used up, or ended meanwhile).
   *
   * A single grant is one statement (`UPDATE … WHERE uses < max_uses RETURNING`); a chain locks its rows
   * root first (the order every chain shares, so two uses never deadlock) in the same statement.
   */
  async countUse(tenant: string, chainIds: readonly string[], q: Queryable = this.pool): Promise<Map<string, number> | null> {
    const usable = `status = 'active' AND (max_uses IS NULL OR uses < max_uses)`;
    const { rows } =
      chainIds.length === 1
        ? await q.query<{ id: string; uses: number }>(`UPDATE ${GRANT} SET uses = uses + 1 WHERE tenant = $1 AND id = $2::uuid AND ${usable} RETURNING id::text AS id, uses`, [
            tenant,
            chainIds[0],
          ])
        : await q.query<{ id: string; uses: number }>(
            `WITH locked AS (
               SELECT id FROM ${GRANT} WHERE tenant = $1 AND id = ANY($2::uuid[]) AND ${usable} ORDER BY depth FOR UPDATE
             )
             UPDATE ${GRANT} g SET uses = g.uses + 1 FROM locked
             WHERE g.id = locked.id AND (SELECT count(*) FROM locked) = cardinality($2::uuid[])
             RETURNING g.id::text AS id, g.uses`,
            [tenant, chainIds],
          );
    if (rows.length !== chainIds.length) return null;
    return new Map(rows.map((row) => [row.id, row.uses]));
  }

  /** Counts one use on each of several grants that have no chain; resolves to the new counts of those that took it. */
  async countSingleUses(tenant: string, ids: readonly string[]): Promise<Map<string, number>> {
    if (!ids.length) return new Map();
    const { rows } = await this.pool.query<{ id: string; uses: number }>(
      `UPDATE ${GRANT} SET uses = uses + 1 WHERE tenant = $1 AND id = ANY($2::uuid[]) AND status = 'active' AND (max_uses IS NULL OR uses < max_uses)
       RETURNING id::text AS id, uses`,
      [tenant, ids],
    );
    return new Map(rows.map((row) => [row.id, row.uses]));
  }

  /** Whether any active grant is past its expiry: the sweeper's cheap look before it opens a transaction. */
  async anyExpired(tenant: string, now: Date): Promise<boolean> {
    const { rows } = await this.pool.query(`SELECT 1 FROM ${GRANT} WHERE tenant = $1 AND status = 'active' AND expires_at <= $2 LIMIT 1`, [tenant, now]);
    return rows.length > 0;
  }

  /** Locks up to `limit` active grants past their expiry that no other replica holds. */
  async lockExpired(tx: Queryable, tenant: string, now: Date, limit: number): Promise<GrantRecord[]> {
    const { rows } = await tx.query<GrantRecord>(
      `SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND status = 'active' AND expires_at <= $2 ORDER BY expires_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [tenant, now, limit],
    );
    return rows;
  }

  /** The active grants on a resource, locked, except (when given) those whose chain starts with `keepRootDelegator`. */
  async lockActiveOnResource(tx: Queryable, tenant: string, resource: string, keepRootDelegator?: string): Promise<GrantRecord[]> {
    const keep = keepRootDelegator === undefined ? '' : 'AND root_delegator_id <> $3';
    const { rows } = await tx.query<GrantRecord>(
      `SELECT ${COLUMNS} FROM ${GRANT} WHERE tenant = $1 AND resource = $2 AND status = 'active' ${keep} ORDER BY depth, id FOR UPDATE`,
      keepRootDelegator === undefined ? [tenant, resource] : [tenant, resource, keepRootDelegator],
    );
    return rows;
  }
}
