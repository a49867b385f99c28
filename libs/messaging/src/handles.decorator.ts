import { ContractError, type EventContract, type ParsedRequestOf, type PayloadOf, type ReplyOf, type RequestContract } from '@latchkey/contracts';
import { Logger } from '@nestjs/common';
import { EventPattern, MessagePattern, RpcException } from '@nestjs/microservices';
import type { z } from 'zod';
import { handlerMetrics } from './metrics.js';
import { inSpan, SpanKind, tracingEnabled } from './tracing.js';

const logger = new Logger('Handles');

/**
 * Marks a method as the handler of a request contract. The wrapper is the NATS boundary: it parses the
 * request with the contract (a bad payload is `invalid_request` and never reaches the domain), checks the
 * reply against the contract, and turns any failure into the `{ code, message, details? }` envelope.
 */
export function Handles<C extends RequestContract>(contract: C) {
  return (target: object, key: string | symbol, descriptor: PropertyDescriptor): void => {
    const original = descriptor.value as (request: ParsedRequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C>;
    const metrics = handlerMetrics(contract.subject);
    const handle = async function (this: unknown, raw: unknown): Promise<ReplyOf<C>> {
      const started = performance.now();
      const parsed = contract.request.safeParse(raw);
      if (!parsed.success) {
        metrics.record('invalid_request', (performance.now() - started) / 1000);
        throw new RpcException(new ContractError('invalid_request', describeIssues(parsed.error), { subject: contract.subject }).toEnvelope());
      }
      try {
        const reply = contract.reply.parse(await original.call(this, parsed.data as ParsedRequestOf<C>)) as ReplyOf<C>;
        metrics.record('ok', (performance.now() - started) / 1000);
        return reply;
      } catch (error) {
        const envelope = toEnvelope(error, contract.subject);
        metrics.record(envelope.code, (performance.now() - started) / 1000);
        throw new RpcException(envelope);
      }
    };
    const attributes = { 'messaging.system': 'nats', 'messaging.destination.name': contract.subject };
    // A SERVER span per request, child of the caller's (the transport made its `traceparent` the active context).
    const wrapped = function (this: unknown, raw: unknown): Promise<ReplyOf<C>> {
      if (!tracingEnabled()) return handle.call(this, raw);
      return inSpan(contract.subject, SpanKind.SERVER, attributes, () => handle.call(this, raw));
    };
    Object.defineProperty(wrapped, 'name', { value: String(key) });
    descriptor.value = wrapped;
    MessagePattern(contract.subject)(target, key, descriptor);
  };
}

/** Marks a method as a consumer of an event contract; malformed events are dropped and logged. */
export function On<C extends EventContract>(contract: C) {
  return (target: object, key: string | symbol, descriptor: PropertyDescriptor): void => {
    const original = descriptor.value as (payload: PayloadOf<C>) => Promise<void> | void;
    const wrapped = async function (this: unknown, raw: unknown): Promise<void> {
      const parsed = contract.payload.safeParse(raw);
      if (!parsed.success) {
        logger.warn(`dropped malformed event on ${contract.subject}: ${describeIssues(parsed.error)}`);
        return;
      }
      await original.call(this, parsed.data as PayloadOf<C>);
    };
    descriptor.value = wrapped;
    EventPattern(contract.subject)(target, key, descriptor);
  };
}

function toEnvelope(error: unknown, subject: string) {
  if (error instanceof ContractError) return error.toEnvelope();
  // Anything else is a bug or an infrastructure fault: log it here, send nothing of it.
  logger.error(`unexpected failure handling ${subject}`, error instanceof Error ? error.stack : String(error));
  return new ContractError('internal', 'internal error').toEnvelope();
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
