import { type CustomTransportStrategy, type MessageHandler, type ReadPacket, type WritePacket, BaseRpcContext, ClientProxy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { extractTraceContext, traceHeaders, tracingEnabled, withTraceContext } from './tracing.js';

/** A request as it travels in-process: the packet and, as over NATS, its `traceparent` header (tracing on). */
type TracedPacket = ReadPacket & { headers?: Record<string, string> };

/**
 * The all-in-one process's stand-in for NATS: handlers registered by in-process servers, found by
 * subject. Every payload, reply and error is JSON-serialised on the way, so nothing can rely on sharing
 * an object with the other side, exactly as over a real broker.
 */
export class InProcessBroker {
  private readonly requestHandlers = new Map<string, MessageHandler[]>();
  private readonly eventHandlers = new Map<string, MessageHandler[]>();
  private readonly roundRobin = new Map<string, number>();

  register(pattern: string, handler: MessageHandler): void {
    const table = handler.isEventHandler ? this.eventHandlers : this.requestHandlers;
    table.set(pattern, [...(table.get(pattern) ?? []), handler]);
  }

  unregister(handlers: Iterable<[string, MessageHandler]>): void {
    for (const [pattern, handler] of handlers) {
      for (const table of [this.requestHandlers, this.eventHandlers]) {
        const remaining = (table.get(pattern) ?? []).filter((h) => h !== handler);
        if (remaining.length) table.set(pattern, remaining);
        else table.delete(pattern);
      }
    }
  }

  /** Like a queue group: one responder per request, taken in turn. */
  responderFor(pattern: string): MessageHandler | undefined {
    const handlers = this.requestHandlers.get(pattern);
    if (!handlers?.length) return undefined;
    const next = (this.roundRobin.get(pattern) ?? 0) % handlers.length;
    this.roundRobin.set(pattern, next + 1);
    return handlers[next];
  }

  subscribersOf(pattern: string): readonly MessageHandler[] {
    return this.eventHandlers.get(pattern) ?? [];
  }
}

export class InProcessServer extends Server implements CustomTransportStrategy {
  private registered: [string, MessageHandler][] = [];

  constructor(private readonly broker: InProcessBroker) {
    super();
  }

  listen(callback: () => void): void {
    this.registered = [...this.messageHandlers.entries()];
    for (const [pattern, handler] of this.registered) this.broker.register(pattern, handler);
    callback();
  }

  close(): void {
    this.broker.unregister(this.registered);
    this.registered = [];
  }

  on(): void {
    // No transport-level events: the broker cannot disconnect.
  }

  unwrap<T>(): T {
    return this.broker as T;
  }
}

export class InProcessClient extends ClientProxy {
  constructor(private readonly broker: InProcessBroker) {
    super();
  }

  async connect(): Promise<void> {}

  close(): void {}

  unwrap<T>(): T {
    return this.broker as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let cancelled = false;
    const respond = (reply: WritePacket) => {
      if (!cancelled) callback(reply);
    };
    const traced: TracedPacket = tracingEnabled() ? { ...packet, headers: traceHeaders() } : packet;
    setImmediate(() => {
      const handler = this.broker.responderFor(packet.pattern);
      if (!handler) {
        respond({ err: { name: 'NoRespondersError', message: `no responders for ${packet.pattern}` }, isDisposed: true });
        return;
      }
      invoke(handler, traced).then(
        (response) => respond({ response: roundTrip(response), isDisposed: true }),
        (error: unknown) => respond({ err: roundTripError(error), isDisposed: true }),
      );
    });
    return () => {
      cancelled = true;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const subscribers = this.broker.subscribersOf(packet.pattern);
    setImmediate(() => {
      for (const handler of subscribers) void invoke(handler, packet).catch(() => undefined);
    });
    return undefined as T;
  }
}

async function invoke(handler: MessageHandler, packet: TracedPacket): Promise<unknown> {
  const headers = packet.headers;
  const call = () => handler(roundTrip(packet.data), new BaseRpcContext([packet.pattern]));
  // Like NatsSubjectServer: the handler runs in the caller's trace context read from the header, not the ambient one.
  const result = await (headers ? withTraceContext(extractTraceContext((key) => headers[key]), call) : call());
  return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
}

function roundTrip<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function roundTripError(error: unknown): unknown {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return roundTrip(error);
}
