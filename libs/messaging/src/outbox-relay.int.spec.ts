import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PgOutboxStore, startEmbeddedPostgres } from '@latchkey/persistence';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import type { EventStream } from './event-stream.js';
import { consumeInto, eventually, localInfra, Received, testEvents, uniqueService } from './event-test-kit.test.js';
import { InProcessEventStream } from './in-process-event-stream.js';
import { InProcessBroker } from './in-process-transport.js';
import { EVENTS_STREAM, JetStreamEventStream } from './jetstream-event-stream.js';
import { OutboxRelay } from './outbox-relay.js';

/** The table every service declares in its own schema (here created by hand, as its migration would). */
function outboxTableSql(table: string): string {
  return `
    CREATE TABLE ${table} (
      seq BIGSERIAL PRIMARY KEY,
      id UUID UNIQUE NOT NULL,
      subject TEXT NOT NULL,
      payload JSONB NOT NULL,
      created_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
      published_at TIMESTAMPTZ(3) NULL
    );
    CREATE INDEX ON ${table} (published_at, seq);`;
}

/** Holds a publication until released: a relay caught between the stream's ack and its commit. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  reached = 0;
  release(): void {
    this.open();
  }
}

/** Like the relay's stream, but each publication may first be held or refused, after or before it is stored. */
function interceptedStream(stream: EventStream, intercept: (n: number) => Promise<void> | void, when: 'before' | 'after' = 'before'): EventStream {
  let count = 0;
  return Object.assign(Object.create(stream) as EventStream, {
    async publishRaw(subject: string, payload: unknown, options: { messageId: string }) {
      const n = ++count;
      if (when === 'before') await intercept(n);
      await stream.publishRaw(subject, payload, options);
      if (when === 'after') await intercept(n);
    },
  });
}

describe('OutboxRelay with PgOutboxStore over PostgreSQL and JetStream', () => {
  const serverUrl = process.env.LATCHKEY_TEST_DATABASE_URL as string;
  const database = `outbox_${randomBytes(6).toString('hex')}`;
  let databaseUrl: string;
  let pool: pg.Pool;
  let nats: { url: string; stop(): Promise<void> };
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const toClose: { close(): Promise<unknown> }[] = [];
  const relays: OutboxRelay[] = [];
  let tables = 0;

  beforeAll(async () => {
    const server = new pg.Client({ connectionString: serverUrl });
    await server.connect();
    await server.query(`CREATE DATABASE "${database}"`);
    await server.end();
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    await pool.query('CREATE SCHEMA relaytest');
    nats = await (await localInfra()).startNats();
    admin = await connect({ servers: nats.url });
    jsm = await jetstreamManager(admin);
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(toClose.map((closable) => closable.close()));
    await admin.close();
    await nats.stop();
    await pool.end();
    const server = new pg.Client({ connectionString: serverUrl });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await server.end();
  });

  /** A replica's own connections: its pool (named, to find its session) and its event stream. */
  function replica(name = `relay-${randomBytes(3).toString('hex')}`) {
    const replicaPool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: name });
    replicaPool.on('error', () => undefined);
    const stream = new JetStreamEventStream({ servers: [nats.url], name });
    toClose.push({ close: () => replicaPool.end() }, stream);
    return { name, pool: replicaPool, stream };
  }

  async function newOutbox() {
    const table = `relaytest.outbox_${++tables}`;
    await pool.query(outboxTableSql(table));
    const events = testEvents(uniqueService('outbox'));
    const received = new Received();
    const consumer = replica();
    await consumeInto(consumer.stream, 'outbox', [events.happened], received);
    return { table, events, received };
  }

  /** A service's transaction: the change and its event commit together. */
  async function commitEvents(table: string, subject: string, ns: number[]): Promise<string[]> {
    const client = await pool.connect();
    const ids = ns.map(() => randomUUID());
    try {
      await client.query('BEGIN');
      for (const [i, n] of ns.entries()) {
        await client.query(`INSERT INTO ${table} (id, subject, payload) VALUES ($1, $2, $3)`, [ids[i], subject, { tenant: 'demo', n, note: `event ${n}` }]);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    return ids;
  }

  async function unpublished(table: string): Promise<number> {
    const { rows } = await pool.query<{ count: string }>(`SELECT count(*) FROM ${table} WHERE published_at IS NULL`);
    return Number(rows[0].count);
  }

  async function stored(subject: string): Promise<number> {
    const info = await jsm.streams.info(EVENTS_STREAM.name, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  function relayOf(table: string, stream: EventStream, replicaPool: pg.Pool = pool, options = {}) {
    const relay = new OutboxRelay(new PgOutboxStore(replicaPool, table), stream, options);
    relays.push(relay);
    return relay;
  }

  it('publishes pending rows in order, with their ids as message ids, and marks them', async () => {
    const { table, events, received } = await newOutbox();
    await commitEvents(table, events.happened.subject, [1, 2, 3, 4, 5]);
    const relay = relayOf(table, replica().stream, pool, { batchSize: 2 });
    await expect(relay.publishPending()).resolves.toBe(5);
    await expect(relay.publishPending()).resolves.toBe(0);
    expect(await unpublished(table)).toBe(0);
    await eventually(() => received.events.length === 5, 'five events');
    expect(received.ns).toEqual([1, 2, 3, 4, 5]);
    expect(await stored(events.happened.subject)).toBe(5);
  });

  it('publishes what was committed while no relay ran, as soon as one starts', async () => {
    const { table, events, received } = await newOutbox();
    // The service committed, then died before publishing anything.
    await commitEvents(table, events.happened.subject, [1, 2, 3]);
    relayOf(table, replica().stream, pool, { pollIntervalMs: 100 }).start();
    await eventually(() => received.events.length === 3, 'the events of the dead service');
    expect(received.ns).toEqual([1, 2, 3]);
    await eventually(async () => (await unpublished(table)) === 0, 'the rows marked');
  });

  it('a relay that dies after the stream stored events and before its commit: the next one republishes, the stream keeps each once', async () => {
    const { table, events, received } = await newOutbox();
    await commitEvents(table, events.happened.subject, [1, 2, 3, 4, 5]);
    const dying = replica('relay-dying');
    const gate = new Gate();
    // Stored on the stream, then the relay is stuck before it can mark anything.
    const stuck = interceptedStream(dying.stream, async (n) => {
      if (n === 3) {
        gate.reached++;
        await gate.opened;
        throw new Error('the process is gone');
      }
    }, 'after');
    const dyingPass = relayOf(table, stuck, dying.pool).publishPending();
    await eventually(() => gate.reached === 1, 'the dying relay to have published three events');
    // The crash, as PostgreSQL and NATS see it: the session dies mid-transaction, the connection goes.
    await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [dying.name]);
    await dying.stream.close();
    gate.release();
    await expect(dyingPass).rejects.toThrow();
    expect(await unpublished(table)).toBe(5);
    expect(await stored(events.happened.subject)).toBe(3);

    await expect(relayOf(table, replica().stream).publishPending()).resolves.toBe(5);
    expect(await unpublished(table)).toBe(0);
    expect(await stored(events.happened.subject)).toBe(5);
    await eventually(() => received.events.length >= 5, 'five events');
    expect(received.ns).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets one relay publish at a time: another replica finds the lock taken and the order holds', async () => {
    const { table, events, received } = await newOutbox();
    await commitEvents(table, events.happened.subject, [1, 2, 3, 4]);
    const gate = new Gate();
    const first = replica();
    const held = relayOf(
      table,
      interceptedStream(first.stream, async () => {
        gate.reached++;
        await gate.opened;
      }),
      first.pool,
    ).publishPending();
    await eventually(() => gate.reached === 1, 'the first relay to hold its batch');
    const second = replica();
    await expect(relayOf(table, second.stream, second.pool).publishPending()).resolves.toBe(0);
    gate.release();
    await expect(held).resolves.toBe(4);
    // Replicas racing over many rows still publish them in order, each once.
    await commitEvents(table, events.happened.subject, Array.from({ length: 36 }, (_, i) => i + 5));
    const racing = [replica(), replica(), replica()].map((r) => relayOf(table, r.stream, r.pool, { batchSize: 5 }));
    // A relay finding the lock taken returns; the holder drains everything, so nothing is left behind.
    const counts = await Promise.all(racing.map((relay) => relay.publishPending()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(36);
    expect(await unpublished(table)).toBe(0);
    await eventually(() => received.events.length === 40, 'forty events');
    expect(received.ns).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await stored(events.happened.subject)).toBe(40);
  });

  it('stops at an entry the stream refuses, keeps what it published before it, and goes on from there', async () => {
    const { table, events, received } = await newOutbox();
    await commitEvents(table, events.happened.subject, [1, 2, 3, 4, 5]);
    const stream = replica().stream;
    const refusing = interceptedStream(stream, (n) => {
      if (n === 3) throw new Error('stream unavailable');
    });
    await expect(relayOf(table, refusing).publishPending()).rejects.toThrow('stream unavailable');
    expect(await unpublished(table)).toBe(3);
    await expect(relayOf(table, stream).publishPending()).resolves.toBe(3);
    await eventually(() => received.events.length === 5, 'five events');
    expect(received.ns).toEqual([1, 2, 3, 4, 5]);
  });

  it('publishes at once when kicked after a commit, without waiting for the next poll', async () => {
    const { table, events, received } = await newOutbox();
    const relay = relayOf(table, replica().stream, pool, { pollIntervalMs: 60_000 });
    relay.start();
    await relay.publishPending();
    await commitEvents(table, events.happened.subject, [1]);
    const kicked = Date.now();
    relay.kick();
    await eventually(() => received.events.length === 1, 'the kicked event', 5000);
    expect(Date.now() - kicked).toBeLessThan(5000);
  });

  it('sweeps rows published before the retention, keeping newer and unpublished ones', async () => {
    const { table, events } = await newOutbox();
    await commitEvents(table, events.happened.subject, [1, 2, 3]);
    const store = new PgOutboxStore(pool, table);
    await relayOf(table, replica().stream).publishPending();
    await pool.query(`UPDATE ${table} SET published_at = now() - interval '8 days' WHERE seq IN (SELECT seq FROM ${table} ORDER BY seq LIMIT 2)`);
    await commitEvents(table, events.happened.subject, [4]);
    await expect(store.sweepPublished(new Date(Date.now() - 7 * 24 * 3_600_000))).resolves.toBe(2);
    const { rows } = await pool.query<{ n: number; published: boolean }>(`SELECT (payload->>'n')::int AS n, published_at IS NOT NULL AS published FROM ${table} ORDER BY seq`);
    expect(rows).toEqual([
      { n: 3, published: true },
      { n: 4, published: false },
    ]);
  });
});

describe('OutboxRelay in the all-in-one process (embedded PostgreSQL, in-process stream)', () => {
  it('publishes through the single shared connection, lock included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-outbox-pglite-'));
    const postgres = await startEmbeddedPostgres(dir);
    try {
      await postgres.pool.query('CREATE SCHEMA devices');
      await postgres.pool.query(outboxTableSql('devices.outbox_event'));
      const events = testEvents(uniqueService('embedded'));
      await postgres.pool.query('INSERT INTO devices.outbox_event (id, subject, payload) VALUES ($1, $2, $3), ($4, $2, $5)', [
        randomUUID(),
        events.happened.subject,
        { tenant: 'demo', n: 1 },
        randomUUID(),
        { tenant: 'demo', n: 2 },
      ]);
      const broker = new InProcessBroker();
      const received = new Received();
      await consumeInto(new InProcessEventStream(broker), 'embedded', [events.happened], received);
      const relay = new OutboxRelay(new PgOutboxStore(postgres.pool, 'devices.outbox_event'), new InProcessEventStream(broker));
      await expect(relay.publishPending()).resolves.toBe(2);
      await eventually(() => received.events.length === 2, 'two events');
      expect(received.ns).toEqual([1, 2]);
    } finally {
      await postgres.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
