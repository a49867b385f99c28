import { setTimeout as sleep } from 'node:timers/promises';
import type { EventContract, PayloadOf } from '@latchkey/contracts';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import {
  type ConsumerPlan,
  DEFAULT_REDELIVERY,
  deliverEvent,
  describeError,
  EVENTS_SUBJECTS,
  planConsumers,
  type RedeliveryPolicy,
  redeliveryDelayMs,
} from './event-delivery.js';
import { type DurableConsumerOptions, type DurableEventHandler, EventStream, type RunningConsumer } from './event-stream.js';
import { NATS_CONNECTION } from './transport.js';

/**
 * The one stream of facts. File storage: events outlive a NATS restart. The duplicate window is how
 * long a re-publication with the same message id is dropped (the outbox relay republishes after a crash
 * within seconds); seven days is how long a consumer may be down and still catch up.
 */
export const EVENTS_STREAM = {
  name: 'LATCHKEY_EVENTS',
  subjects: [EVENTS_SUBJECTS],
  storage: StorageType.File,
  duplicate_window: nanos(2 * 60_000),
  max_age: nanos(7 * 24 * 60 * 60_000),
} satisfies Partial<StreamConfig> & { name: string };

/** A message not acknowledged within this time is delivered again; a slow handler says it is still working. */
const ACK_WAIT_MS = 30_000;
/** Messages a consumer pulls ahead of its handler: small, so a stopping replica strands few of them. */
const PULL_BATCH = 16;
/** How long closing may wait for the server (it may be the thing that is down). */
const SHUTDOWN_STEP_MS = 2000;
/** Between attempts to resume a consumer whose pulling failed (NATS unreachable for a long while). */
const RESUME_BACKOFF = { initialMs: 250, maxMs: 10_000 } satisfies RedeliveryPolicy;

export interface JetStreamEventStreamOptions {
  servers: string[];
  /** The connection's name as the NATS server shows it. */
  name: string;
  /** How long a publication may wait for the connection and the stream's acknowledgement. */
  publishTimeoutMs?: number;
  redelivery?: RedeliveryPolicy;
}

const logger = new Logger('JetStreamEventStream');

/**
 * `EventStream` on NATS JetStream. The connection is opened on first use, not at construction: a service
 * that never publishes nor consumes events does not depend on JetStream. The stream is created if missing
 * (by whichever replica gets there first) and otherwise left as the operator configured it.
 */
export class JetStreamEventStream extends EventStream {
  private connection?: Promise<NatsConnection>;
  private connected?: NatsConnection;
  private streamReady?: Promise<void>;
  private readonly running = new Set<RunningConsumer>();
  private closed = false;
  private readonly publishTimeoutMs: number;
  private readonly redelivery: RedeliveryPolicy;

  constructor(private readonly options: JetStreamEventStreamOptions) {
    super();
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.redelivery = options.redelivery ?? DEFAULT_REDELIVERY;
  }

  async publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, options: { messageId: string }): Promise<void> {
    await this.publishRaw(contract.subject, contract.payload.parse(payload), options);
  }

  async publishRaw(subject: string, payload: unknown, options: { messageId: string }): Promise<void> {
    const deadline = Date.now() + this.publishTimeoutMs;
    const remaining = () => Math.max(deadline - Date.now(), 1);
    const nc = await withinMs(this.connect(), remaining(), 'NATS connection');
    await withinMs(this.ensureStream(nc), remaining(), `stream ${EVENTS_STREAM.name}`);
    const js = jetstream(nc);
    const data = JSON.stringify(payload);
    try {
      await js.publish(subject, data, { msgID: options.messageId, timeout: remaining() });
    } catch (error) {
      // "No responders" on a publication: nothing stores the subject, e.g. the stream was deleted or a
      // NATS server lost its storage. Create the stream again and retry once; the message id keeps it single.
      if (!(error instanceof Error && error.name === 'JetStreamNotEnabled')) throw error;
      await withinMs(this.ensureStream(nc, { again: true }), remaining(), `stream ${EVENTS_STREAM.name}`);
      await js.publish(subject, data, { msgID: options.messageId, timeout: remaining() });
    }
  }

  async consume(options: DurableConsumerOptions): Promise<RunningConsumer> {
    const plans = planConsumers(options.durable, options.contracts);
    const nc = await this.connect();
    await this.ensureStream(nc);
    const consumers: JetStreamDurableConsumer[] = [];
    try {
      for (const plan of plans) {
        const consumer = new JetStreamDurableConsumer(nc, plan, options.handle, this.redelivery, () => this.ensureStream(nc, { again: true }));
        await consumer.start();
        consumers.push(consumer);
      }
    } catch (error) {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      throw error;
    }
    const running: RunningConsumer = {
      stop: async () => {
        this.running.delete(running);
        await Promise.all(consumers.map((consumer) => consumer.stop()));
      },
    };
    this.running.add(running);
    return running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running].map((consumer) => consumer.stop()));
    const nc = this.connected;
    this.connected = undefined;
    // Drain flushes the last acknowledgements; a connection still being opened is closed when it opens.
    if (nc) await withinMs(nc.drain(), SHUTDOWN_STEP_MS, 'drain').catch(() => nc.close());
  }

  private connect(): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(new Error('the event stream is closed'));
    this.connection ??= connect({ servers: this.options.servers, name: this.options.name, ...NATS_CONNECTION }).then(
      async (nc) => {
        if (this.closed) {
          await nc.close();
          throw new Error('the event stream is closed');
        }
        this.connected = nc;
        return nc;
      },
      (error: unknown) => {
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  /** Once per connection, unless `again` (the stream went missing under a running consumer or publisher). */
  private ensureStream(nc: NatsConnection, { again = false } = {}): Promise<void> {
    if (again) this.streamReady = undefined;
    this.streamReady ??= jetstreamManager(nc, { checkAPI: false })
      .then((jsm) => createIfMissing(() => jsm.streams.info(EVENTS_STREAM.name), () => jsm.streams.add(EVENTS_STREAM), JetStreamApiCodes.StreamNotFound))
      .catch((error: unknown) => {
        this.streamReady = undefined;
        throw error;
      });
    return this.streamReady;
  }
}

/**
 * One durable pull consumer: created if missing, then consumed message by message (in order for this
 * replica) until stopped. nats.js re-pulls by itself after a reconnect; this class adds the recreation
 * of a consumer or stream that disappeared (a NATS server that lost its storage).
 */
class JetStreamDurableConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly stopping = new AbortController();
  private recreating?: Promise<void>;
  /** The pulling was ended on purpose, to start again (not a failure to log). */
  private pullAgain = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly plan: ConsumerPlan,
    private readonly handle: DurableEventHandler,
    private readonly redelivery: RedeliveryPolicy,
    private readonly ensureStream: () => Promise<void>,
  ) {}

  /** Resolves once the consumer exists on the server: from then on no event can slip past it. */
  async start(): Promise<void> {
    await this.ensureConsumer();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.endPulling();
    await this.loop;
    // The server forgets a pull request whose inbox lost interest; make sure it has seen the unsubscription
    // before anyone relies on the consumer being stopped, or it would hand new events to the dead inbox
    // (and redeliver them only after the ack wait).
    // Bounded: with the server unreachable there is nobody to tell, and shutdown must not wait for it.
    if (!this.nc.isClosed()) await withinMs(this.nc.flush(), SHUTDOWN_STEP_MS, 'flush').catch(() => undefined);
  }

  // Not awaited: nats.js settles close() only once the loop has iterated up to the end of the messages.
  private endPulling(): void {
    this.messages?.close().catch(() => undefined);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped && !this.nc.isClosed()) {
      try {
        const consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM.name, this.plan.name);
        const messages = await consumer.consume({ max_messages: PULL_BATCH });
        this.messages = messages;
        if (this.stopped) this.endPulling();
        this.watch(messages).catch(() => undefined);
        for await (const message of messages) {
          // Pulled before stop(): give it back at once rather than after the ack wait.
          if (this.stopped) message.nak();
          else await this.deliver(message);
          failures = 0;
        }
        if (this.stopped || this.nc.isClosed()) return;
        if (this.pullAgain) {
          this.pullAgain = false;
          continue;
        }
        throw new Error('the pull subscription ended');
      } catch (error) {
        if (this.stopped) return;
        const delayMs = redeliveryDelayMs(RESUME_BACKOFF, ++failures);
        logger.warn(`consumer ${this.plan.name} interrupted, resuming in ${delayMs} ms: ${describeError(error)}`);
        await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        if (!this.stopped) await this.recreate();
      }
    }
  }

  private async deliver(message: JsMsg): Promise<void> {
    // A slow handler keeps its claim on the message instead of having it redelivered to another replica.
    const working = setInterval(() => message.working(), ACK_WAIT_MS / 3);
    try {
      await deliverEvent(
        {
          subject: message.subject,
          data: message.string(),
          deliveryCount: message.info.deliveryCount,
          ack: () => message.ack(),
          term: () => message.term('malformed payload'),
          nak: (delayMs) => message.nak(delayMs),
        },
        this.plan,
        this.handle,
        this.redelivery,
      );
    } finally {
      clearInterval(working);
    }
  }

  /**
   * nats.js keeps pulling after its consumer or stream vanished (a NATS server that lost its storage),
   * but looks for them again only every 30 s: create them, then pull afresh at once.
   */
  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_not_found' || status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
        logger.warn(`consumer ${this.plan.name}: ${status.type.replaceAll('_', ' ')}, creating it again`);
        await this.recreate();
        this.pullAgain = true;
        this.endPulling();
        return;
      }
    }
  }

  private recreate(): Promise<void> {
    this.recreating ??= this.ensureStream()
      .then(() => this.ensureConsumer())
      .catch((error: unknown) => logger.warn(`consumer ${this.plan.name} could not be created again: ${describeError(error)}`))
      .finally(() => {
        this.recreating = undefined;
      });
    return this.recreating;
  }

  private async ensureConsumer(): Promise<void> {
    const jsm: JetStreamManager = await jetstreamManager(this.nc, { checkAPI: false });
    await createIfMissing(
      () => jsm.consumers.info(EVENTS_STREAM.name, this.plan.name),
      () => jsm.consumers.add(EVENTS_STREAM.name, consumerConfig(this.plan)),
      JetStreamApiCodes.ConsumerNotFound,
    );
  }
}

/**
 * `DeliverPolicy.New`: a consumer is created when its service first starts, before the events it cares
 * about. `All` would make a new durable name (a new service, or a renamed consumer) replay up to seven
 * days of history into handlers written for live events. Once created, the consumer's position persists,
 * so a restarted or redeployed service misses nothing.
 * One filter subject (see `planConsumers`): nats-server 2.9 has no `filter_subjects`.
 */
function consumerConfig(plan: ConsumerPlan): Partial<ConsumerConfig> {
  return {
    durable_name: plan.name,
    filter_subject: plan.filterSubject,
    deliver_policy: DeliverPolicy.New,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    // Never give up on an event: a handler failing for a while (its database is down) must not lose it.
    max_deliver: -1,
  };
}

/** Looks, then creates; if the creation fails because another replica created it meanwhile, that is fine. */
async function createIfMissing(lookUp: () => Promise<unknown>, create: () => Promise<unknown>, notFoundCode: number): Promise<void> {
  try {
    await lookUp();
    return;
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === notFoundCode)) throw error;
  }
  try {
    await create();
  } catch (error) {
    await lookUp().catch(() => {
      throw error;
    });
  }
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not ready within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
