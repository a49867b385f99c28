import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import { EventStream } from './event-stream.js';
import { consumeInto, eventually, Received, testEvents } from './event-test-kit.test.js';
import { InProcessEventStream } from './in-process-event-stream.js';
import { InProcessBroker } from './in-process-transport.js';
import { JetStreamEventStream } from './jetstream-event-stream.js';
import { MessagingModule, type MessagingOptions } from './messaging.module.js';

/** A loopback port nobody listens on. */
function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('MessagingModule event stream', () => {
  it('gives every service module on one in-process broker the same stream (the all-in-one process)', async () => {
    const broker = new InProcessBroker();
    const boot = (requestTimeoutMs: number) =>
      NestFactory.createApplicationContext(MessagingModule.forRoot({ transport: { kind: 'in-process', broker }, requestTimeoutMs }), { logger: false });
    // Two different option objects: two module instances, as two services' modules would have.
    const [publisher, consumer] = [await boot(500), await boot(600)];
    const events = testEvents('modules');
    const received = new Received();
    expect(consumer.get(EventStream)).toBeInstanceOf(InProcessEventStream);
    await consumeInto(consumer.get(EventStream), 'modules', [events.happened], received);
    await publisher.get(EventStream).publish(events.happened, { tenant: 'demo', n: 1, note: 'x' }, { messageId: randomUUID() });
    await eventually(() => received.events.length === 1, 'the event across modules');
    await publisher.close();
    await consumer.close();
  });

  it('on NATS provides JetStream, connected only when used: a service without events never needs it', async () => {
    const options: MessagingOptions = { transport: { kind: 'nats', servers: [`nats://127.0.0.1:${await unusedPort()}`], name: 'lazy' }, requestTimeoutMs: 500 };
    const app = await NestFactory.createApplicationContext(MessagingModule.forRoot(options), { logger: false });
    expect(app.get(EventStream)).toBeInstanceOf(JetStreamEventStream);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
