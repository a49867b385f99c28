import type { EventContract, PayloadOf } from '@latchkey/contracts';

/** A durable consumer's handler: resolves to acknowledge, throws to have the event redelivered. */
export type DurableEventHandler = (contract: EventContract, payload: unknown) => Promise<void>;

export interface DurableConsumerOptions {
  /** The consumer's durable name: replicas of a service share it, so each event is handled once per service. */
  durable: string;
  /** The events to receive (their payloads are validated before `handle` sees them; malformed ones are dropped). */
  contracts: readonly EventContract[];
  handle: DurableEventHandler;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

/**
 * Facts on JetStream (ARCHITECTURE: `latchkey.events.<service>.<event>`), as opposed to the fire-and-forget
 * `ContractClient.emit`: a publication is acknowledged by the stream and de-duplicated by its message id,
 * and a durable consumer receives every event even if it was down when it was published.
 * The distributed platform uses JetStream; the all-in-one process an in-memory equivalent.
 */
export abstract class EventStream {
  /** Publishes once per `messageId` (a retry with the same id is dropped by the stream); resolves when stored. */
  abstract publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, options: { messageId: string }): Promise<void>;
  /** Publishes an already-validated payload by subject (the outbox relay, which stores subjects, not contracts). */
  abstract publishRaw(subject: string, payload: unknown, options: { messageId: string }): Promise<void>;
  abstract consume(options: DurableConsumerOptions): Promise<RunningConsumer>;
  abstract close(): Promise<void>;
}
