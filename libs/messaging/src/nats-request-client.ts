import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { ClientNats, type NatsOptions, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { traceHeaders, tracingEnabled } from './tracing.js';

type NatsConnectionLike = {
  request(subject: string, data: unknown, options: { timeout: number; headers?: unknown }): Promise<unknown>;
};

/**
 * NestJS's NATS client subscribes a fresh inbox for every request. This one uses the connection's
 * shared request inbox instead (one subscription for all requests) and gets NATS's "no responders"
 * answer at once when no service listens, so a caller learns a service is down immediately.
 */
export class NatsRequestClient extends ClientNats {
  constructor(
    options: NatsOptions['options'],
    private readonly requestTimeoutMs: number,
  ) {
    super(options ?? {});
  }

  protected override publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const packet = this.assignPacketId(partialPacket);
    let cancelled = false;
    try {
      const subject = this.normalizePattern(packet.pattern);
      const serialized = this.serializer.serialize(packet) as { data: unknown; headers?: unknown };
      const connection = this.natsClient as unknown as NatsConnectionLike;
      const onReply = this.createSubscriptionHandler(packet, (reply) => {
        if (!cancelled) callback(reply);
      });
      connection
        .request(subject, serialized.data, { timeout: this.requestTimeoutMs, headers: this.headersFor(serialized.headers) })
        .then(
          (message) => onReply(undefined as never, message as never),
          (error: unknown) => {
            if (!cancelled) callback({ err: error, isDisposed: true });
          },
        );
    } catch (error) {
      callback({ err: error, isDisposed: true });
    }
    return () => {
      cancelled = true;
    };
  }

  /** The packet's headers, plus the active span's `traceparent` (ContractClient's CLIENT span) when tracing is on. */
  private headersFor(packetHeaders: unknown): MsgHdrs | undefined {
    const merged = this.mergeHeaders(packetHeaders as never) as MsgHdrs | undefined;
    if (!tracingEnabled()) return merged;
    const trace = Object.entries(traceHeaders());
    if (!trace.length) return merged;
    const result = merged ?? natsHeaders();
    for (const [key, value] of trace) result.set(key, value);
    return result;
  }
}
