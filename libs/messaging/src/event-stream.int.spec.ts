import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { EventStream } from './event-stream.js';
import { consumeInto, eventually, localInfra, Received, settle, testEvents, uniqueService } from './event-test-kit.test.js';
import { InProcessEventStream } from './in-process-event-stream.js';
import { InProcessBroker } from './in-process-transport.js';
import { EVENTS_STREAM, JetStreamEventStream } from './jetstream-event-stream.js';

const REDELIVERY = { initialMs: 100, maxMs: 1000 };

interface Medium {
  /** A new EventStream on the shared medium, as another replica or a restarted process would open. */
  open(): EventStream;
  /** How many messages the medium stores on a subject, where it can tell. */
  stored?(subject: string): Promise<number>;
  close(): Promise<void>;
}

async function inProcessMedium(): Promise<Medium> {
  const broker = new InProcessBroker();
  return { open: () => new InProcessEventStream(broker, { redelivery: REDELIVERY }), close: async () => undefined };
}

async function jetStreamMedium(): Promise<Medium> {
  const nats = await (await localInfra()).startNats();
  const admin = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(admin);
  let replicas = 0;
  return {
    open: () => new JetStreamEventStream({ servers: [nats.url], name: `events-int-${++replicas}`, redelivery: REDELIVERY }),
    stored: (subject) => storedOn(jsm, subject),
    async close() {
      await admin.close();
      await nats.stop();
    },
  };
}

async function storedOn(jsm: JetStreamManager, subject: string): Promise<number> {
  const info = await jsm.streams.info(EVENTS_STREAM.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

const event = (n: number, note = `event ${n}`) => ({ tenant: 'demo', n, note });

describe.each([
  ['in-process', inProcessMedium],
  ['JetStream', jetStreamMedium],
])('EventStream semantics (%s)', (_name, startMedium) => {
  let medium: Medium;
  const opened: EventStream[] = [];
  const open = () => {
    const stream = medium.open();
    opened.push(stream);
    return stream;
  };

  beforeAll(async () => {
    medium = await startMedium();
  });

  afterAll(async () => {
    await Promise.all(opened.map((stream) => stream.close()));
    await medium.close();
  });

  it('delivers published events to a durable consumer, validated by the contract and in order', async () => {
    const events = testEvents(uniqueService('roundtrip'));
    const stream = open();
    const received = new Received();
    await consumeInto(stream, 'roundtrip', [events.happened], received);
    for (const n of [1, 2, 3]) await stream.publish(events.happened, event(n), { messageId: randomUUID() });
    // A payload the contract completes (the default `note`) reaches the handler as parsed.
    await stream.publishRaw(events.happened.subject, { tenant: 'demo', n: 4 }, { messageId: randomUUID() });
    await eventually(() => received.events.length === 4, 'four events');
    expect(received.ns).toEqual([1, 2, 3, 4]);
    expect(received.events.map((e) => e.payload.note)).toEqual(['event 1', 'event 2', 'event 3', 'none']);
  });

  it('stores a message id once: a republication is dropped', async () => {
    const events = testEvents(uniqueService('dedupe'));
    const stream = open();
    const received = new Received();
    await consumeInto(stream, 'dedupe', [events.happened], received);
    const messageId = randomUUID();
    await stream.publish(events.happened, event(1), { messageId });
    await stream.publish(events.happened, event(1), { messageId });
    // Another replica's republication after a crash, through the relay's path.
    await open().publishRaw(events.happened.subject, event(1), { messageId });
    await stream.publish(events.happened, event(2), { messageId: randomUUID() });
    await eventually(() => received.ns.includes(2), 'the second event');
    await settle();
    expect(received.ns).toEqual([1, 2]);
    if (medium.stored) expect(await medium.stored(events.happened.subject)).toBe(2);
  });

  it('keeps the events of a stopped durable consumer until it starts again', async () => {
    const events = testEvents(uniqueService('durable'));
    const publisher = open();
    const first = new Received();
    const running = await consumeInto(open(), 'durable', [events.happened], first);
    await publisher.publish(events.happened, event(1), { messageId: randomUUID() });
    await eventually(() => first.events.length === 1, 'the first event');
    await running.stop();
    for (const n of [2, 3, 4, 5]) await publisher.publish(events.happened, event(n), { messageId: randomUUID() });
    await settle(200);
    expect(first.ns).toEqual([1]);
    // A restarted service: a new stream, the same durable name.
    const again = new Received();
    await consumeInto(open(), 'durable', [events.happened], again);
    await eventually(() => again.events.length === 4, 'the events published while stopped');
    expect(again.ns).toEqual([2, 3, 4, 5]);
  });

  it('shares the work between consumers with the same durable name: each event is handled once', async () => {
    const events = testEvents(uniqueService('shared'));
    const replicas = [new Received(), new Received()];
    for (const received of replicas) {
      await open().consume({
        durable: 'shared',
        contracts: [events.happened],
        handle: async (contract, payload) => {
          received.record(contract, payload);
          // A handler that takes a moment, as real ones do, so both replicas have work in hand.
          await new Promise((resolve) => setTimeout(resolve, 10));
        },
      });
    }
    const publisher = open();
    for (let n = 1; n <= 30; n++) await publisher.publish(events.happened, event(n), { messageId: randomUUID() });
    const all = () => [...replicas[0].ns, ...replicas[1].ns];
    await eventually(() => all().length >= 30, 'thirty events');
    await settle();
    expect(all().sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(replicas[0].events.length).toBeGreaterThan(0);
    expect(replicas[1].events.length).toBeGreaterThan(0);
  });

  it('redelivers an event whose handler failed', async () => {
    const events = testEvents(uniqueService('retry'));
    const stream = open();
    const attempts = new Map<number, number>();
    const received = new Received();
    await consumeInto(stream, 'retry', [events.happened], received, (payload) => {
      attempts.set(payload.n, (attempts.get(payload.n) ?? 0) + 1);
      return payload.n === 2 && attempts.get(2)! < 3;
    });
    for (const n of [1, 2, 3]) await stream.publish(events.happened, event(n), { messageId: randomUUID() });
    await eventually(() => received.ns.includes(2), 'the failed event, handled at last');
    expect(attempts.get(2)).toBe(3);
    expect(received.ns.sort()).toEqual([1, 2, 3]);
  });

  it('drops a malformed payload, logged, and goes on with the next event', async () => {
    const events = testEvents(uniqueService('malformed'));
    const stream = open();
    const received = new Received();
    await consumeInto(stream, 'malformed', [events.happened], received);
    await stream.publishRaw(events.happened.subject, { tenant: 'demo', n: 'not a number' }, { messageId: randomUUID() });
    await stream.publishRaw(events.happened.subject, 'not even an object', { messageId: randomUUID() });
    await stream.publish(events.happened, event(7), { messageId: randomUUID() });
    await eventually(() => received.events.length === 1, 'the valid event');
    await settle(REDELIVERY.initialMs * 3);
    expect(received.ns).toEqual([7]);
  });

  it("skips the same service's events it did not ask for", async () => {
    const events = testEvents(uniqueService('filter'));
    const stream = open();
    const received = new Received();
    await consumeInto(stream, 'filter', [events.happened], received);
    await stream.publish(events.other, event(1), { messageId: randomUUID() });
    await stream.publish(events.happened, event(2), { messageId: randomUUID() });
    await eventually(() => received.events.length === 1, 'the wanted event');
    await settle();
    expect(received.events).toEqual([{ subject: events.happened.subject, payload: event(2) }]);
  });

  it('refuses to publish a payload that breaks its contract', async () => {
    const events = testEvents(uniqueService('invalid'));
    const stream = open();
    const received = new Received();
    await consumeInto(stream, 'invalid', [events.happened], received);
    await expect(stream.publish(events.happened, { tenant: 'demo', n: 1.5, note: 'x' }, { messageId: randomUUID() })).rejects.toThrow();
    await stream.publish(events.happened, event(2), { messageId: randomUUID() });
    await eventually(() => received.events.length === 1, 'the valid event');
    expect(received.ns).toEqual([2]);
  });

  it('stops consuming when closed; the durable keeps what arrives meanwhile', async () => {
    const events = testEvents(uniqueService('closing'));
    const closing = open();
    const before = new Received();
    await consumeInto(closing, 'closing', [events.happened], before);
    await closing.close();
    const publisher = open();
    await publisher.publish(events.happened, event(1), { messageId: randomUUID() });
    const after = new Received();
    await consumeInto(open(), 'closing', [events.happened], after);
    await eventually(() => after.events.length === 1, 'the event, for the next consumer');
    expect(before.events).toEqual([]);
  });

  it('refuses a durable name that JetStream could not carry', async () => {
    const events = testEvents(uniqueService('names'));
    await expect(open().consume({ durable: 'token.revocations', contracts: [events.happened], handle: async () => undefined })).rejects.toThrow(/durable/);
  });
});

describe('InProcessEventStream', () => {
  it('shares one log between the streams of one broker, and none across brokers', async () => {
    const events = testEvents(uniqueService('broker'));
    const broker = new InProcessBroker();
    const here = new Received();
    const elsewhere = new Received();
    await consumeInto(new InProcessEventStream(broker), 'broker', [events.happened], here);
    await consumeInto(new InProcessEventStream(new InProcessBroker()), 'broker', [events.happened], elsewhere);
    await new InProcessEventStream(broker).publish(events.happened, event(1), { messageId: randomUUID() });
    await eventually(() => here.events.length === 1, 'the event on the same broker');
    await settle(50);
    expect(elsewhere.events).toEqual([]);
  });

  it('delivers asynchronously, never on the publisher’s stack', async () => {
    const events = testEvents(uniqueService('async'));
    const stream = new InProcessEventStream(new InProcessBroker());
    const received = new Received();
    await consumeInto(stream, 'async', [events.happened], received);
    await stream.publish(events.happened, event(1), { messageId: randomUUID() });
    expect(received.events).toEqual([]);
    await eventually(() => received.events.length === 1, 'the event');
  });

  it('refuses a subject outside the event stream, as JetStream would', async () => {
    await expect(new InProcessEventStream(new InProcessBroker()).publishRaw('latchkey.token.v1.issue', {}, { messageId: randomUUID() })).rejects.toThrow(/no event stream/);
  });
});

/** A nats-server whose process and storage directory the test controls (startNats hides both). */
class OwnNatsServer {
  private child?: ChildProcess;
  readonly dirs: string[] = [];

  private constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  static async create(): Promise<OwnNatsServer> {
    const infra = await localInfra();
    const binary = infra.findNatsServer();
    if (!binary) throw new Error('nats-server not found');
    return new OwnNatsServer(binary, await infra.freePort());
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `storage: 'keep'` restarts on the previous directory, `'new'` on an empty one (a server that lost its disk). */
  async start({ jetstream = true, storage = 'new' as 'new' | 'keep' } = {}): Promise<void> {
    if (storage === 'new' || !this.dirs.length) this.dirs.push(mkdtempSync(join(tmpdir(), 'latchkey-nats-own-')));
    const args = ['-a', '127.0.0.1', '-p', String(this.port), ...(jetstream ? ['-js', '-sd', this.dirs.at(-1)!] : [])];
    this.child = spawn(this.binary, args, { stdio: 'ignore' });
    await eventually(async () => {
      const probe = await connect({ servers: this.url, reconnect: false }).catch(() => undefined);
      await probe?.close();
      return !!probe;
    }, 'nats-server to listen');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

describe('JetStreamEventStream', () => {
  let server: OwnNatsServer;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const opened: EventStream[] = [];
  const open = (options: { publishTimeoutMs?: number } = {}) => {
    const stream = new JetStreamEventStream({ servers: [server.url], name: `events-own-${opened.length}`, redelivery: REDELIVERY, ...options });
    opened.push(stream);
    return stream;
  };

  beforeAll(async () => {
    server = await OwnNatsServer.create();
    await server.start();
    admin = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    // A short timeout: a request sent while the server restarts is lost, the probe asks again.
    jsm = await jetstreamManager(admin, { checkAPI: false, timeout: 500 });
  });

  afterAll(async () => {
    await Promise.all(opened.map((stream) => stream.close()));
    await admin.close();
    await server.dispose();
  });

  it('leaves an existing stream as the operator configured it', async () => {
    await jsm.streams.add({ ...EVENTS_STREAM, max_age: nanos(60 * 60_000) });
    const events = testEvents(uniqueService('operator'));
    await open().publish(events.happened, event(1), { messageId: randomUUID() });
    expect((await jsm.streams.info(EVENTS_STREAM.name)).config.max_age).toBe(nanos(60 * 60_000));
    await jsm.streams.delete(EVENTS_STREAM.name);
  });

  it('creates LATCHKEY_EVENTS once however many replicas race, with file storage, a 2 min duplicate window and 7 days', async () => {
    const events = testEvents(uniqueService('race'));
    const replicas = [open(), open(), open(), open()];
    await Promise.all(replicas.map((stream, n) => stream.publish(events.happened, event(n), { messageId: randomUUID() })));
    const { config, state } = await jsm.streams.info(EVENTS_STREAM.name);
    expect(config).toMatchObject({ subjects: ['latchkey.events.>'], storage: 'file', duplicate_window: nanos(120_000), max_age: nanos(7 * 24 * 3_600_000) });
    expect(state.messages).toBe(4);
  });

  it('makes one durable pull consumer per producing service, starting at new events, filtered by one subject (nats-server 2.9)', async () => {
    const device = testEvents(uniqueService('device'));
    const token = testEvents(uniqueService('token'));
    const stream = open();
    await stream.publish(device.happened, event(0), { messageId: randomUUID() });
    const received = new Received();
    await consumeInto(stream, 'plan', [device.happened, device.other, token.happened], received);
    const names = await jsm.consumers.list(EVENTS_STREAM.name).next();
    const ours = names.filter((consumer) => consumer.name.startsWith('plan_'));
    expect(ours.map((consumer) => consumer.config.filter_subject).sort()).toEqual(
      [`latchkey.events.${device.happened.subject.split('.')[2]}.>`, `latchkey.events.${token.happened.subject.split('.')[2]}.>`].sort(),
    );
    expect(ours.every((consumer) => consumer.config.deliver_policy === 'new' && consumer.config.ack_policy === 'explicit')).toBe(true);
    await stream.publish(token.happened, event(1), { messageId: randomUUID() });
    await stream.publish(device.other, event(2), { messageId: randomUUID() });
    await eventually(() => received.events.length === 2, 'events of both services');
    // The event published before the consumer existed is not replayed.
    expect(received.ns.sort()).toEqual([1, 2]);
  });

  it('resumes consuming and publishing after the NATS server restarts', async () => {
    const events = testEvents(uniqueService('restart'));
    // Short: a publication sent while disconnected waits for this long before it is retried.
    const publisher = open({ publishTimeoutMs: 500 });
    const received = new Received();
    await consumeInto(open(), 'restart', [events.happened], received);
    await publisher.publish(events.happened, event(1), { messageId: randomUUID() });
    await eventually(() => received.events.length === 1, 'the event before the restart');
    await server.stop();
    await server.start({ storage: 'keep' });
    await eventually(async () => {
      // The publisher retries as the outbox relay would; the message id keeps it single.
      await publisher.publish(events.happened, event(2), { messageId: 'restart-2' }).catch(() => undefined);
      return received.events.length === 2;
    }, 'an event after the restart', 20_000);
    expect(received.ns).toEqual([1, 2]);
  }, 30_000);

  it('creates the stream and its consumers again when the server lost its storage', async () => {
    const events = testEvents(uniqueService('wiped'));
    const publisher = open({ publishTimeoutMs: 500 });
    const received = new Received();
    await consumeInto(open(), 'wiped', [events.happened], received);
    await server.stop();
    await server.start({ storage: 'new' });
    const consumerName = `wiped_${events.happened.subject.split('.')[2]}`;
    await eventually(() => jsm.consumers.info(EVENTS_STREAM.name, consumerName).then(() => true, () => false), 'the consumer, created again', 20_000);
    await eventually(async () => {
      await publisher.publish(events.happened, event(1), { messageId: 'wiped-1' }).catch(() => undefined);
      return received.events.length === 1;
    }, 'an event after the loss', 20_000);
  }, 30_000);

  it('fails fast and clearly on a server without JetStream, and never at construction', async () => {
    await server.stop();
    await server.start({ jetstream: false });
    const stream = open({ publishTimeoutMs: 2000 });
    const events = testEvents(uniqueService('nojs'));
    await expect(stream.publish(events.happened, event(1), { messageId: randomUUID() })).rejects.toThrow(/jetstream/i);
    await expect(stream.consume({ durable: 'nojs', contracts: [events.happened], handle: async () => undefined })).rejects.toThrow(/jetstream/i);
    await stream.close();
  });
});
