import { randomUUID } from 'node:crypto';
import { type DecisionLogEntry, MAX_LOGGED_DECISIONS_PER_EVENT, type PayloadOf, PolicyDecisionsLogged } from '@latchkey/contracts';
import type { EventStream } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';

export interface DecisionLogOptions {
  /** How long a decision may wait in the buffer before it is published (default 50 ms). */
  flushMs?: number;
  /** Decisions buffered at most while JetStream is slow or away; beyond, new ones are dropped and counted (default 20,000). */
  maxBuffered?: number;
  /** Publications in flight at most (default 4). */
  maxInFlight?: number;
}

const logger = new Logger('DecisionLog');
const WARN_EVERY_MS = 10_000;

/**
 * The decision log on JetStream (`latchkey.events.policy.decision`), off the decision's path: decide()
 * only appends to a per-tenant buffer; a timer publishes batches of up to 200 decisions per event. If
 * the stream cannot keep up, the buffer is bounded and the excess is dropped and counted, never waited
 * for: the log must not slow decisions down, nor grow without limit.
 */
export class DecisionLog {
  private buffers = new Map<string, DecisionLogEntry[]>();
  private buffered = 0;
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private readonly publications = new Set<Promise<void>>();
  private dropped = 0;
  private lastWarning = 0;
  private closed = false;
  private readonly flushMs: number;
  private readonly maxBuffered: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly events: EventStream,
    options: DecisionLogOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 50;
    this.maxBuffered = options.maxBuffered ?? 20_000;
    this.maxInFlight = options.maxInFlight ?? 4;
  }

  /** Decisions published so far could not be kept (buffer full or publication failed). */
  get droppedCount(): number {
    return this.dropped;
  }

  record(tenant: string, entry: DecisionLogEntry): void {
    if (this.closed || this.buffered >= this.maxBuffered) return this.drop(1, 'the decision log buffer is full');
    let buffer = this.buffers.get(tenant);
    if (!buffer) this.buffers.set(tenant, (buffer = []));
    buffer.push(entry);
    this.buffered++;
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Publishes what is buffered (as far as the in-flight bound allows; the rest at the next tick). */
  flush(): void {
    this.timer = undefined;
    for (const [tenant, buffer] of this.buffers) {
      while (buffer.length && this.inFlight < this.maxInFlight) {
        const batch = buffer.splice(0, MAX_LOGGED_DECISIONS_PER_EVENT);
        this.buffered -= batch.length;
        this.publish({ eventId: randomUUID(), tenant, decisions: batch });
      }
      if (!buffer.length) this.buffers.delete(tenant);
    }
    if (this.buffered > 0) this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Publishes everything still buffered and waits for it (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffered > 0 || this.publications.size) {
      this.flush();
      clearTimeout(this.timer);
      this.timer = undefined;
      if (this.publications.size) await Promise.race(this.publications);
    }
  }

  private publish(payload: PayloadOf<typeof PolicyDecisionsLogged>): void {
    this.inFlight++;
    // Built here from validated decisions: publishRaw skips validating 200 entries a second time.
    const publication = this.events
      .publishRaw(PolicyDecisionsLogged.subject, payload, { messageId: payload.eventId })
      .catch((error: unknown) => this.drop(payload.decisions.length, `publication failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.inFlight--;
        this.publications.delete(publication);
        if (this.buffered > 0 && !this.closed) this.timer ??= setTimeout(() => this.flush(), 0);
      });
    this.publications.add(publication);
  }

  private drop(count: number, why: string): void {
    this.dropped += count;
    const now = Date.now();
    if (now - this.lastWarning >= WARN_EVERY_MS) {
      this.lastWarning = now;
      logger.warn(`decisions not logged: ${why} (${this.dropped} dropped so far)`);
    }
  }
}
