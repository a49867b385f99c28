// Waits until the platform has finished the background work an earlier phase left behind, so the next
// phase is timed alone. The bulk import is the reason: 100,000 devices are 100,000 outbox events, which
// the relay publishes to JetStream and the durable consumers (token's cut-off feed, delegation's device
// feed) then work through for many seconds after the last upload answered. Timed while that runs, the
// delegation and policy phases measured half their quiet throughput.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Messages not yet delivered or not yet acknowledged, summed over every durable consumer of every stream. */
async function pendingEvents(jsm) {
  let pending = 0;
  for await (const stream of jsm.streams.list()) {
    for await (const consumer of jsm.consumers.list(stream.config.name)) pending += consumer.num_pending + consumer.num_ack_pending;
  }
  return pending;
}

/**
 * Resolves once no consumer has pending events and the platform's processes (`busy(ms)`: their share
 * of all cores) have stayed under `busyBelow` for two samples in a row (the relay may still be
 * publishing while consumers are momentarily caught up), or after `timeoutMs`.
 * Returns { seconds, pending, busy, settled }.
 */
export async function waitForSettledPlatform({ natsUrl, busy: sampleBusy, busyBelow = 0.1, timeoutMs = 180_000 }) {
  const started = performance.now();
  const nc = await connect({ servers: natsUrl, name: 'latchkey-bench-settle' });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    let quietSamples = 0;
    let pending = 0;
    let busy = 1;
    while (performance.now() - started < timeoutMs) {
      pending = await pendingEvents(jsm);
      busy = await sampleBusy(1000);
      quietSamples = pending === 0 && busy < busyBelow ? quietSamples + 1 : 0;
      if (quietSamples >= 2) return { seconds: (performance.now() - started) / 1000, pending, busy, settled: true };
      if (pending > 0) await sleep(500);
    }
    return { seconds: (performance.now() - started) / 1000, pending, busy, settled: false };
  } finally {
    await nc.close();
  }
}
