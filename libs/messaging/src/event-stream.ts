import type { EventContract, PayloadOf } from '@latchkey/contracts';

/**
 * A durable consumer's handler: resolves to acknowledge, throws to have the event redelivered (after a
 * delay, to this or another replica). Delivery is at least once, so a handler must be idempotent: an
 * event whose acknowledgement was lost, or that outlived its handler's crash, comes again.
 */
export type DurableEventHandler = (contract: EventContract, payload: unknown) => Promise<void>;

export interface DurableConsumerOptions {
  /**
   * The consumer's durable name (letters, digits, `-`, `_`): replicas of a service share it, so each event
   * is handled once per service. A name seen for the first time starts with the events published from
   * then on, not with the stream's history (see docs/adr/0016-transactional-outbox-for-events.md).
   */
  durable: string;
  /** The events to receive (their payloads are validated before `handle` sees them; malformed ones are dropped). */
  contracts: readonly EventContract[];
  handle: DurableEventHandler;
}

export interface RunningConsumer {
  /** Stops taking events and waits for the one being handled; the durable position stays for the next start. */
  stop(): Promise<void>;
}

/**
 * Facts on JetStream (ARCHITECTURE: `latchkey.events.<service>.<event>`), as opposed to the fire-and-forget
 * `ContractClient.emit`: a publication is acknowledged by the stream and de-duplicated by its message id,
 * and a durable consumer receives every event even if it was down when it was published.
 * The distributed platform uses JetStream (`JetStreamEventStream`); the all-in-one process an in-memory
 * equivalent with the same semantics (`InProcessEventStream`).
 */
export abstract class EventStream {
  /** Publishes once per `messageId` (a retry with the same id is dropped by the stream); resolves when stored. */
  abstract publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, options: { messageId: string }): Promise<void>;
  /** Publishes an already-validated payload by subject (the outbox relay, which stores subjects, not contracts). */
  abstract publishRaw(subject: string, payload: unknown, options: { messageId: string }): Promise<void>;
  /** Resolves once the durable consumer exists, so that events published afterwards reach it. */
  abstract consume(options: DurableConsumerOptions): Promise<RunningConsumer>;
  /** Stops this instance's consumers and releases its connection. */
  abstract close(): Promise<void>;
}

/**
 * A durable consumer a service starts at boot and stops at shutdown (its event feeds). Starting again,
 * also while the first start is still under way, keeps the one consumer; a failed start can be retried;
 * after `stop()` a later `start()` consumes again from the durable position.
 */
export class DurableSubscription {
  private running: Promise<RunningConsumer> | null = null;

  constructor(
    private readonly stream: EventStream,
    private readonly options: DurableConsumerOptions,
  ) {}

  /** Resolves once the durable consumer exists, so that events published afterwards reach it. */
  async start(): Promise<void> {
    const running = (this.running ??= this.stream.consume(this.options));
    try {
      await running;
    } catch (error) {
      if (this.running === running) this.running = null;
      throw error;
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    const consumer = await running?.catch(() => undefined);
    await consumer?.stop();
  }
}
