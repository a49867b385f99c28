// Shared by the event stream and outbox specs. The `.test.ts` suffix keeps it out of the library build
// (tsconfig.lib.json) without jest collecting it as a test file (jest runs `*.spec.ts`).
import { randomBytes } from 'node:crypto';
import { defineEvent, type EventContract } from '@latchkey/contracts';
import { z } from 'zod';
import type { EventStream, RunningConsumer } from './event-stream.js';

export const TestPayload = z.object({
  tenant: z.string(),
  n: z.number().int(),
  // The consumer must see the contract's output, not the raw JSON: the default proves it.
  note: z.string().default('none'),
});
export type TestPayload = z.output<typeof TestPayload>;

/** Event contracts of a service of their own (`latchkey.events.<service>.*`), so that tests do not meet. */
export function testEvents(service: string) {
  return {
    happened: defineEvent({ subject: `latchkey.events.${service}.happened`, payload: TestPayload }),
    other: defineEvent({ subject: `latchkey.events.${service}.other`, payload: TestPayload }),
  };
}

/** A fresh service name per call (letters only, as event subjects allow). */
export function uniqueService(prefix: string): string {
  return `${prefix}-${[...randomBytes(6)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;
}

/** What a consumer was handed, in order. */
export class Received {
  readonly events: { subject: string; payload: TestPayload }[] = [];

  get ns(): number[] {
    return this.events.map((event) => event.payload.n);
  }

  record(contract: EventContract, payload: unknown): void {
    this.events.push({ subject: contract.subject, payload: payload as TestPayload });
  }
}

export async function consumeInto(stream: EventStream, durable: string, contracts: readonly EventContract[], received: Received, fail?: (payload: TestPayload) => boolean): Promise<RunningConsumer> {
  return stream.consume({
    durable,
    contracts,
    handle: async (contract, payload) => {
      if (fail?.(payload as TestPayload)) throw new Error('handler failed on purpose');
      received.record(contract, payload);
    },
  });
}

/**
 * The workspace's plain-JS test tooling (tools/infra/local-infra.mjs). @latchkey/testing wraps it, but
 * depends on this library: importing it from here would make the two projects depend on each other.
 */
export interface LocalInfra {
  startNats(): Promise<{ url: string; stop(): Promise<void> }>;
  findNatsServer(): string | undefined;
  freePort(): Promise<number>;
}

export function localInfra(): Promise<LocalInfra> {
  return import(new URL('../../../tools/infra/local-infra.mjs', import.meta.url).href) as Promise<LocalInfra>;
}

/** Polls `check` until it holds (no fixed sleeps: the machine is small and shared). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lets already-due deliveries happen, to show that nothing more arrives. */
export function settle(ms = 300): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
