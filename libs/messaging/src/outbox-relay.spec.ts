import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { consumeInto, eventually, Received, testEvents } from './event-test-kit.test.js';
import { InProcessEventStream } from './in-process-event-stream.js';
import { InProcessBroker } from './in-process-transport.js';
import { type OutboxEntry, OutboxRelay, type OutboxStore } from './outbox-relay.js';

/** The store's contract in memory (PgOutboxStore is proven against PostgreSQL in the .int spec). */
class MemoryOutbox implements OutboxStore {
  readonly entries: (OutboxEntry & { published: boolean })[] = [];
  locked = false;
  batches = 0;

  add(subject: string, ns: number[]): void {
    for (const n of ns) this.entries.push({ id: randomUUID(), subject, payload: { tenant: 'demo', n }, published: false });
  }

  async relayBatch(limit: number, publish: (entry: OutboxEntry) => Promise<void>): Promise<number | null> {
    if (this.locked) return null;
    this.locked = true;
    this.batches++;
    try {
      let published = 0;
      for (const entry of this.entries.filter((e) => !e.published).slice(0, limit)) {
        await publish(entry);
        entry.published = true;
        published++;
      }
      return published;
    } finally {
      this.locked = false;
    }
  }

  async sweepPublished(): Promise<number> {
    return 0;
  }
}

function setUp(options = {}) {
  const events = testEvents('relay');
  const broker = new InProcessBroker();
  const store = new MemoryOutbox();
  const stream = new InProcessEventStream(broker);
  const relay = new OutboxRelay(store, stream, options);
  return { events, store, stream, relay };
}

describe('OutboxRelay', () => {
  it('publishes every pending entry, batch after batch, in order', async () => {
    const { events, store, stream, relay } = setUp({ batchSize: 2 });
    const received = new Received();
    await consumeInto(stream, 'unit', [events.happened], received);
    store.add(events.happened.subject, [1, 2, 3, 4, 5]);
    await expect(relay.publishPending()).resolves.toBe(5);
    // 2 + 2 + 1: a short batch means the outbox is drained.
    expect(store.batches).toBe(3);
    await eventually(() => received.events.length === 5, 'five events');
    expect(received.ns).toEqual([1, 2, 3, 4, 5]);
  });

  it('publishes nothing while another relay holds the lock', async () => {
    const { events, store, relay } = setUp();
    store.add(events.happened.subject, [1]);
    store.locked = true;
    await expect(relay.publishPending()).resolves.toBe(0);
  });

  it('runs one pass at a time; calls during a pass share one more pass, which sees later commits', async () => {
    const { events, store, relay } = setUp();
    store.add(events.happened.subject, [1]);
    const first = relay.publishPending();
    store.add(events.happened.subject, [2]);
    const second = relay.publishPending();
    const third = relay.publishPending();
    expect(second).toBe(third);
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(1);
    expect(store.batches).toBe(2);
  });

  it('polls once started, publishes on a kick, and stops polling when stopped', async () => {
    const { events, store, relay } = setUp({ pollIntervalMs: 20 });
    relay.kick();
    store.add(events.happened.subject, [1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Not started: neither a kick nor time publishes anything.
    expect(store.batches).toBe(0);
    relay.start();
    await eventually(() => store.entries.every((e) => e.published), 'the first entry');
    await relay.stop();
    const batches = store.batches;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.batches).toBe(batches);
  });

  it('keeps polling after a failed pass', async () => {
    const { events, store, relay } = setUp({ pollIntervalMs: 10 });
    let failures = 1;
    const original = store.relayBatch.bind(store);
    store.relayBatch = (limit, publish) => (failures-- > 0 ? Promise.reject(new Error('database restarting')) : original(limit, publish));
    store.add(events.happened.subject, [1]);
    relay.start();
    // The first retry after a failure waits a second (FAILURE_BACKOFF), not the poll interval.
    await eventually(() => store.entries[0].published, 'the entry, after the failure', 5000);
    await relay.stop();
  });
});
