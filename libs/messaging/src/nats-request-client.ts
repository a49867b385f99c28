import { ClientNats, type NatsOptions, type ReadPacket, type WritePacket } from '@nestjs/microservices';

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
        .request(subject, serialized.data, { timeout: this.requestTimeoutMs, headers: this.mergeHeaders(serialized.headers as never) })
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
}
