import { Logger } from '@nestjs/common';
import { describeError, type RedeliveryPolicy, redeliveryDelayMs } from './event-delivery.js';
import type { EventStream } from './event-stream.js';

/** An event written in the same transaction as the change it reports, waiting to be published. */
export interface OutboxEntry {
  /** The event's message id on the stream: a republication after a crash is dropped as a duplicate. */
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * A service's outbox table (docs/adr/0016-transactional-outbox-for-events.md). `PgOutboxStore` in
 * libs/persistence implements it over PostgreSQL.
 */
export interface OutboxStore {
  /**
   * One batch under the outbox's relay lock: hands the oldest unpublished entries (at most `limit`, in
   * order) to `publish` one at a time and marks those it accepted as published, all in one transaction.
   * Stops at the first entry `publish` rejects (a later entry must not overtake it), keeps the marks made
   * so far and rethrows. Resolves to the number published, or `null` when another relay holds the lock.
   */
  relayBatch(limit: number, publish: (entry: OutboxEntry) => Promise<void>): Promise<number | null>;
  /** Deletes entries published before `olderThan`; resolves to how many. */
  sweepPublished(olderThan: Date): Promise<number>;
}

export interface OutboxRelayOptions {
  /** How often the outbox is read without a kick: the bound on the delay after a kick was lost (a crash). */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Published entries are kept this long (for inspection), then swept; as long as the stream keeps events. */
  retainPublishedMs?: number;
  sweepIntervalMs?: number;
}

const DEFAULTS = {
  pollIntervalMs: 500,
  batchSize: 100,
  retainPublishedMs: 7 * 24 * 60 * 60_000,
  sweepIntervalMs: 60 * 60_000,
} satisfies Required<OutboxRelayOptions>;

/** After failed passes (the stream unreachable), poll less often than every 500 ms and log less. */
const FAILURE_BACKOFF = { initialMs: 1000, maxMs: 15_000 } satisfies RedeliveryPolicy;

const logger = new Logger('OutboxRelay');

/**
 * Publishes a service's outbox to the event stream, in order, each entry with its id as the message id.
 * Run one per replica: the store's lock lets one relay at a time publish, the others find it taken.
 * A relay that dies after publishing and before its transaction commits leaves the entries unmarked; the
 * next pass publishes them again and the stream drops them as duplicates, so each change is stored once.
 *
 * Lifecycle: `start()` when the service starts; `kick()` after each commit that wrote to the outbox;
 * `stop()` before the stream and the database close (e.g. in `beforeApplicationShutdown`).
 */
export class OutboxRelay {
  private readonly options: Required<OutboxRelayOptions>;
  private current?: Promise<number>;
  private queued?: Promise<number>;
  private timer?: NodeJS.Timeout;
  private running = false;
  private failures = 0;
  private lastSweep = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly stream: EventStream,
    options: OutboxRelayOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops polling and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await Promise.allSettled([this.current, this.queued]);
  }

  /** Something was just committed to the outbox: publish it now rather than at the next poll. */
  kick(): void {
    if (this.running) this.publishPending().catch(() => undefined);
  }

  /**
   * Publishes everything pending, batch after batch; resolves to how many entries this relay published
   * (0 when another relay holds the lock). A call during a pass waits for one more pass after it, which
   * sees what was committed meanwhile; calls made during the same pass share that next pass.
   */
  publishPending(): Promise<number> {
    if (!this.current) return this.begin();
    this.queued ??= this.current
      .catch(() => 0)
      .then(() => {
        this.queued = undefined;
        return this.begin();
      });
    return this.queued;
  }

  private begin(): Promise<number> {
    const pass = this.drain().finally(() => {
      if (this.current === pass) this.current = undefined;
    });
    this.current = pass;
    return pass;
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.store.relayBatch(this.options.batchSize, (entry) =>
        this.stream.publishRaw(entry.subject, entry.payload, { messageId: entry.id }),
      );
      if (published === null) return total;
      total += published;
      if (published < this.options.batchSize) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.poll(), delayMs);
    // The relay alone must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      await this.publishPending();
      await this.sweepWhenDue();
      this.failures = 0;
      this.schedule(this.options.pollIntervalMs);
    } catch (error) {
      const delayMs = Math.max(this.options.pollIntervalMs, redeliveryDelayMs(FAILURE_BACKOFF, ++this.failures));
      logger.warn(`publishing the outbox failed (${this.failures} in a row), again in ${delayMs} ms: ${describeError(error)}`);
      this.schedule(delayMs);
    }
  }

  private async sweepWhenDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < this.options.sweepIntervalMs) return;
    this.lastSweep = now;
    await this.store.sweepPublished(new Date(now - this.options.retainPublishedMs));
  }
}
