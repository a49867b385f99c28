import { describe, expect, it } from '@jest/globals';
import { type DurableConsumerOptions, DurableSubscription, EventStream, type RunningConsumer } from './event-stream.js';

/** Counts consumers started and stopped; `failNext` makes the next `consume` reject. */
class CountingStream extends EventStream {
  started = 0;
  stopped = 0;
  failNext = false;

  async publish(): Promise<void> {}
  async publishRaw(): Promise<void> {}
  async close(): Promise<void> {}

  async consume(_options: DurableConsumerOptions): Promise<RunningConsumer> {
    await Promise.resolve();
    if (this.failNext) {
      this.failNext = false;
      throw new Error('stream unreachable');
    }
    this.started += 1;
    return { stop: async () => void (this.stopped += 1) };
  }
}

const OPTIONS: DurableConsumerOptions = { durable: 'test', contracts: [], handle: async () => undefined };

describe('DurableSubscription', () => {
  it('starts one consumer however often, and however concurrently, start is called', async () => {
    const stream = new CountingStream();
    const subscription = new DurableSubscription(stream, OPTIONS);
    await Promise.all([subscription.start(), subscription.start()]);
    await subscription.start();
    expect(stream.started).toBe(1);
  });

  it('stops its consumer once, and consumes again after a later start', async () => {
    const stream = new CountingStream();
    const subscription = new DurableSubscription(stream, OPTIONS);
    await subscription.start();
    await subscription.stop();
    await subscription.stop();
    expect(stream.stopped).toBe(1);
    await subscription.start();
    expect(stream.started).toBe(2);
  });

  it('case=should let a failed start be retried, and stop without a consumer', async () => {
    const stream = new CountingStream();
    const subscription = new DurableSubscription(stream, OPTIONS);
    stream.failNext = true;
    await expect(subscription.start()).rejects.toThrow('stream unreachable');
    await subscription.stop();
    await subscription.start();
    expect([stream.started, stream.stopped]).toEqual([1, 0]);
  });
});
