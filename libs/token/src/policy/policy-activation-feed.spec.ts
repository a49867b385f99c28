import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { PolicyActivated } from '@latchkey/contracts';
import { createEventStream, InProcessBroker, type TransportConfig } from '@latchkey/messaging';
import { PolicyActivationFeed } from './policy-activation-feed.js';

// The all-in-one process (in-process transport): the policy module's activation events reach the token
// module's feed through the shared in-memory event stream. (On NATS: scope-policy.int.spec.ts.)
describe('PolicyActivationFeed in the all-in-one process', () => {
  it('reports the tenant of every activation published after it started, and nothing after it stopped', async () => {
    const transport: TransportConfig = { kind: 'in-process', broker: new InProcessBroker() };
    const policyEvents = createEventStream(transport);
    const tokenEvents = createEventStream(transport);
    const activated: string[] = [];
    const feed = new PolicyActivationFeed(transport, tokenEvents, (tenant) => activated.push(tenant));
    await feed.start();
    const publish = async (tenant: string) => {
      const eventId = randomUUID();
      await policyEvents.publish(
        PolicyActivated,
        { eventId, tenant, actor: { type: 'system', id: 'test' }, at: new Date().toISOString(), kind: 'data', policyVersion: 'b0.d1@00000000.00000000', bundleVersion: 0, dataVersion: 1 },
        { messageId: eventId },
      );
    };
    await publish('demo');
    await publish('other');
    for (let i = 0; i < 50 && activated.length < 2; i++) await sleep(10);
    expect(activated).toEqual(['demo', 'other']);
    await feed.stop();
    await publish('demo');
    await sleep(50);
    expect(activated).toEqual(['demo', 'other']);
    await Promise.all([policyEvents.close(), tokenEvents.close()]);
  });
});
