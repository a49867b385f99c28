import type { EventContract } from '@latchkey/contracts';
import { Logger } from '@nestjs/common';
import type { DurableEventHandler } from './event-stream.js';
import { describeIssues } from './handles.decorator.js';

/** The stream every `latchkey.events.*` fact is stored in, whichever implementation carries it. */
export const EVENTS_SUBJECTS = 'latchkey.events.>';

const EVENT_SUBJECT = /^latchkey\.events\.([a-z-]+)\.[a-z_.-]+$/;
// JetStream forbids `.`, `*`, `>` and whitespace in a consumer name; be stricter so names stay readable.
const DURABLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * One durable consumer per producing service a caller listens to. It filters `latchkey.events.<service>.>`
 * rather than the exact subjects because several filter subjects on one consumer need nats-server 2.10
 * (Debian ships 2.9), and one consumer per subject would lose the order between a service's events
 * (a device suspended, then reactivated). Events of that service nobody asked for are acknowledged unseen.
 */
export interface ConsumerPlan {
  /** `<durable>_<service>`: stable for a durable name, whatever contracts a later version adds. */
  name: string;
  filterSubject: string;
  contracts: ReadonlyMap<string, EventContract>;
}

export function planConsumers(durable: string, contracts: readonly EventContract[]): ConsumerPlan[] {
  if (!DURABLE_NAME.test(durable)) throw new Error(`invalid durable consumer name: ${JSON.stringify(durable)}`);
  if (!contracts.length) throw new Error(`durable consumer ${durable} names no events`);
  const byService = new Map<string, Map<string, EventContract>>();
  for (const contract of contracts) {
    const service = EVENT_SUBJECT.exec(contract.subject)?.[1];
    if (!service) throw new Error(`not an event subject: ${contract.subject}`);
    const group = byService.get(service) ?? new Map<string, EventContract>();
    group.set(contract.subject, contract);
    byService.set(service, group);
  }
  return [...byService].map(([service, group]) => ({ name: `${durable}_${service}`, filterSubject: `latchkey.events.${service}.>`, contracts: group }));
}

export function isEventSubject(subject: string): boolean {
  return EVENT_SUBJECT.test(subject);
}

/** Delays between redeliveries of an event whose handler failed: doubling from `initialMs` up to `maxMs`. */
export interface RedeliveryPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_REDELIVERY: RedeliveryPolicy = { initialMs: 500, maxMs: 30_000 };

/** `deliveryCount` is 1 for the first delivery, so the first retry waits `initialMs`. */
export function redeliveryDelayMs(policy: RedeliveryPolicy, deliveryCount: number): number {
  const exponent = Math.min(Math.max(deliveryCount - 1, 0), 20);
  return Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
}

/** One delivery of a stored event, as either implementation hands it over. */
export interface Delivery {
  subject: string;
  /** The payload as stored: JSON text. */
  data: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  ack(): void;
  /** Never again: the event cannot be handled by anyone. */
  term(): void;
  nak(delayMs: number): void;
}

const logger = new Logger('EventStream');

/**
 * What a durable consumer does with one event: a malformed payload is logged and dropped (redelivering it
 * would fail the same way for ever), a handler failure is retried after a growing delay, success is acked.
 */
export async function deliverEvent(
  delivery: Delivery,
  plan: ConsumerPlan,
  handle: DurableEventHandler,
  redelivery: RedeliveryPolicy,
): Promise<void> {
  const contract = plan.contracts.get(delivery.subject);
  if (!contract) return delivery.ack();
  const parsed = parseJson(delivery.data);
  const payload = parsed.ok ? contract.payload.safeParse(parsed.value) : undefined;
  if (!payload?.success) {
    const reason = payload ? describeIssues(payload.error) : 'not JSON';
    logger.warn(`${plan.name} dropped a malformed event on ${delivery.subject}: ${reason}`);
    return delivery.term();
  }
  try {
    await handle(contract, payload.data);
  } catch (error) {
    const delayMs = redeliveryDelayMs(redelivery, delivery.deliveryCount);
    logger.warn(`${plan.name} failed to handle ${delivery.subject} (delivery ${delivery.deliveryCount}), again in ${delayMs} ms: ${describeError(error)}`);
    return delivery.nak(delayMs);
  }
  delivery.ack();
}

/** One line for a log: the error's name and message, never its stack. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const firstLine = text.split('\n', 1)[0];
  return firstLine.length > 200 ? `${firstLine.slice(0, 200)}…` : firstLine;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
