import { ServerNats } from '@nestjs/microservices';
import { extractTraceContext, tracingEnabled, withTraceContext } from './tracing.js';

interface DrainableSubscription {
  drain(): Promise<void>;
}

interface DrainableConnection {
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** At most this long for in-flight requests after the subscriptions are drained (gracePeriod overrides it). */
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Nest's microservice server first tries `JSON.parse` on every incoming subject (patterns may be
 * objects); for our plain `latchkey.*` subjects that throws and catches a SyntaxError per message,
 * ~6% of the token service's CPU under load. Subjects that cannot be JSON skip the attempt.
 *
 * Shutdown without losing a request: `drainRequests()` drains the subscriptions (the server stops
 * sending this replica messages; the ones already on their way are still handled), then waits until
 * every request in flight has been answered. `close()` does that first, then drains the connection,
 * which flushes the last replies before closing. Nest's own close unsubscribes (dropping what was on
 * the wire) and sleeps a fixed grace period before closing without a flush.
 */
export class NatsSubjectServer extends ServerNats {
  private inFlight = 0;
  private whenIdle: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private readonly drainTimeoutMs: number;

  constructor(options: ConstructorParameters<typeof ServerNats>[0]) {
    super(options);
    this.drainTimeoutMs = (options as { gracePeriod?: number }).gracePeriod ?? DEFAULT_DRAIN_TIMEOUT_MS;
  }

  protected override getRouteFromPattern(pattern: string): string {
    const first = pattern.charCodeAt(0);
    // '{', '[' or '"' could start a JSON pattern; anything else is a plain subject.
    if (first === 0x7b || first === 0x5b || first === 0x22) return super.getRouteFromPattern(pattern);
    return this.normalizePattern(pattern);
  }

  override async handleMessage(...args: Parameters<ServerNats['handleMessage']>): Promise<unknown> {
    this.inFlight++;
    try {
      if (!tracingEnabled()) return (await super.handleMessage(...args)) as unknown;
      // The caller's `traceparent` (NATS headers) becomes the active context: the handler's SERVER span is its child.
      const headers = (args[1] as { headers?: { get(key: string): string } } | undefined)?.headers;
      const parent = extractTraceContext((key) => headers?.get(key) || undefined);
      return (await withTraceContext(parent, () => super.handleMessage(...args))) as unknown;
    } finally {
      if (--this.inFlight === 0) this.whenIdle?.();
    }
  }

  /** Requests being handled now (their replies not yet published). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Stops taking requests and resolves once those in flight are answered (bounded by gracePeriod). */
  drainRequests(): Promise<void> {
    this.draining ??= this.drainNow();
    return this.draining;
  }

  private async drainNow(): Promise<void> {
    const subscriptions = (this as unknown as { subscriptions: DrainableSubscription[] }).subscriptions;
    await Promise.all(subscriptions.map((subscription) => subscription.drain().catch(() => undefined)));
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.drainTimeoutMs);
      this.whenIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.whenIdle = undefined;
  }

  override async close(): Promise<void> {
    const self = this as unknown as { natsClient: DrainableConnection | null };
    const connection = self.natsClient;
    if (!connection) return;
    await this.drainRequests();
    try {
      // Publishes what is still buffered (the last replies), then closes.
      await connection.drain();
    } catch {
      await connection.close().catch(() => undefined);
    }
    this.statusEventEmitter.removeAllListeners();
    self.natsClient = null;
  }
}
