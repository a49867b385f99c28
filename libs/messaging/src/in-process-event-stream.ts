import type { EventContract, PayloadOf } from '@latchkey/contracts';
import {
  type ConsumerPlan,
  DEFAULT_REDELIVERY,
  deliverEvent,
  isEventSubject,
  planConsumers,
  type RedeliveryPolicy,
} from './event-delivery.js';
import { type DurableConsumerOptions, type DurableEventHandler, EventStream, type RunningConsumer } from './event-stream.js';
import type { InProcessBroker } from './in-process-transport.js';

/** As JetStream's `duplicate_window` for LATCHKEY_EVENTS. */
export const IN_PROCESS_DUPLICATE_WINDOW_MS = 2 * 60_000;

interface StoredEvent {
  seq: number;
  subject: string;
  /** Stored as JSON text and parsed per delivery, so no handler shares an object with the publisher. */
  data: string;
}

/**
 * The all-in-one process's JetStream: one per broker, so every service module built on the same broker
 * (each with its own `InProcessEventStream`) publishes to and consumes from the same log. Memory only:
 * events live as long as the process, which is also how long the durable consumers live.
 */
class InProcessEventLog {
  private static readonly byBroker = new WeakMap<InProcessBroker, InProcessEventLog>();

  static of(broker: InProcessBroker): InProcessEventLog {
    let log = InProcessEventLog.byBroker.get(broker);
    if (!log) {
      log = new InProcessEventLog();
      InProcessEventLog.byBroker.set(broker, log);
    }
    return log;
  }

  private lastSeq = 0;
  /** Message id → when it was stored; a Map iterates in insertion order, i.e. oldest first. */
  private readonly recentIds = new Map<string, number>();
  private readonly durables = new Map<string, InProcessDurable>();

  append(subject: string, data: string, messageId: string): void {
    const now = Date.now();
    for (const [id, storedAt] of this.recentIds) {
      if (now - storedAt < IN_PROCESS_DUPLICATE_WINDOW_MS) break;
      this.recentIds.delete(id);
    }
    if (this.recentIds.has(messageId)) return;
    this.recentIds.set(messageId, now);
    const event = { seq: ++this.lastSeq, subject, data };
    for (const durable of this.durables.values()) durable.offer(event);
  }

  /** Created on first use and kept for the life of the process, like a JetStream durable consumer. */
  durable(plan: ConsumerPlan): InProcessDurable {
    let durable = this.durables.get(plan.name);
    if (!durable) {
      durable = new InProcessDurable(plan.filterSubject.slice(0, -1));
      this.durables.set(plan.name, durable);
    }
    return durable;
  }
}

/** One `consume()` call's share of a durable consumer: it handles one event at a time. */
interface Member {
  plan: ConsumerPlan;
  handle: DurableEventHandler;
  redelivery: RedeliveryPolicy;
  busy?: Promise<void>;
}

/**
 * The events a durable consumer still has to handle, shared by every member with its name: each event
 * goes to one idle member (in turn), and a failed one comes back, in order, after its delay.
 */
class InProcessDurable {
  private readonly pending: StoredEvent[] = [];
  private readonly deliveries = new Map<number, number>();
  private readonly members: Member[] = [];
  private turn = 0;
  private pumpScheduled = false;

  constructor(private readonly subjectPrefix: string) {}

  offer(event: StoredEvent): void {
    if (!event.subject.startsWith(this.subjectPrefix)) return;
    this.requeue(event);
  }

  join(member: Member): void {
    this.members.push(member);
    this.schedulePump();
  }

  /** Resolves when the member's current event (if any) has been handled. */
  async leave(member: Member): Promise<void> {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    await member.busy;
  }

  private requeue(event: StoredEvent): void {
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1].seq > event.seq) at--;
    this.pending.splice(at, 0, event);
    this.schedulePump();
  }

  // Asynchronous like a broker: a publisher never runs a consumer's handler on its own stack.
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.pending.length) {
      const member = this.nextIdleMember();
      if (!member) return;
      this.handOver(this.pending.shift()!, member);
    }
  }

  private nextIdleMember(): Member | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.turn + i) % this.members.length];
      if (!member.busy) {
        this.turn = (this.turn + i + 1) % this.members.length;
        return member;
      }
    }
    return undefined;
  }

  private handOver(event: StoredEvent, member: Member): void {
    const deliveryCount = (this.deliveries.get(event.seq) ?? 0) + 1;
    this.deliveries.set(event.seq, deliveryCount);
    const settle = () => this.deliveries.delete(event.seq);
    member.busy = deliverEvent(
      {
        subject: event.subject,
        data: event.data,
        deliveryCount,
        ack: settle,
        term: settle,
        nak: (delayMs) => setTimeout(() => this.requeue(event), delayMs).unref(),
      },
      member.plan,
      member.handle,
      member.redelivery,
    ).finally(() => {
      member.busy = undefined;
      this.schedulePump();
    });
  }
}

export interface InProcessEventStreamOptions {
  redelivery?: RedeliveryPolicy;
}

/**
 * `EventStream` for the all-in-one process, with JetStream's semantics: de-duplication by message id
 * within the duplicate window, durable consumers shared by name, asynchronous at-least-once delivery,
 * redelivery after a failed handler, payloads JSON round-tripped.
 */
export class InProcessEventStream extends EventStream {
  private readonly log: InProcessEventLog;
  private readonly running = new Set<RunningConsumer>();
  private readonly redelivery: RedeliveryPolicy;

  constructor(broker: InProcessBroker, options: InProcessEventStreamOptions = {}) {
    super();
    this.log = InProcessEventLog.of(broker);
    this.redelivery = options.redelivery ?? DEFAULT_REDELIVERY;
  }

  async publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, options: { messageId: string }): Promise<void> {
    await this.publishRaw(contract.subject, contract.payload.parse(payload), options);
  }

  async publishRaw(subject: string, payload: unknown, options: { messageId: string }): Promise<void> {
    // As JetStream answers a subject outside every stream: nobody stores it.
    if (!isEventSubject(subject)) throw new Error(`no event stream stores ${subject}`);
    this.log.append(subject, JSON.stringify(payload), options.messageId);
  }

  async consume(options: DurableConsumerOptions): Promise<RunningConsumer> {
    const memberships = planConsumers(options.durable, options.contracts).map((plan) => {
      const durable = this.log.durable(plan);
      const member: Member = { plan, handle: options.handle, redelivery: this.redelivery };
      durable.join(member);
      return { durable, member };
    });
    const running: RunningConsumer = {
      stop: async () => {
        this.running.delete(running);
        await Promise.all(memberships.map(({ durable, member }) => durable.leave(member)));
      },
    };
    this.running.add(running);
    return running;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((consumer) => consumer.stop()));
  }
}
