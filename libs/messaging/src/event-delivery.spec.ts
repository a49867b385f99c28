import { describe, expect, it } from '@jest/globals';
import { type Delivery, deliverEvent, describeError, planConsumers, redeliveryDelayMs } from './event-delivery.js';
import { testEvents } from './event-test-kit.test.js';

const device = testEvents('device');
const token = testEvents('token');

describe('planConsumers', () => {
  it('makes one consumer per producing service, named after the durable and filtered on the service', () => {
    const plans = planConsumers('revocations', [device.happened, token.happened, device.other]);
    expect(plans.map(({ name, filterSubject }) => ({ name, filterSubject }))).toEqual([
      { name: 'revocations_device', filterSubject: 'latchkey.events.device.>' },
      { name: 'revocations_token', filterSubject: 'latchkey.events.token.>' },
    ]);
    expect([...plans[0].contracts.keys()]).toEqual([device.happened.subject, device.other.subject]);
  });

  it.each(['', 'a.b', 'a b', 'a*', 'a>', 'x'.repeat(65)])('refuses the durable name %j', (name) => {
    expect(() => planConsumers(name, [device.happened])).toThrow(/durable/);
  });

  it('refuses a consumer of nothing, and a subject that is not an event', () => {
    expect(() => planConsumers('d', [])).toThrow(/no events/);
    expect(() => planConsumers('d', [{ ...device.happened, subject: 'latchkey.device.v1.get' }])).toThrow(/not an event subject/);
  });
});

describe('redeliveryDelayMs', () => {
  it('doubles from the initial delay up to the ceiling', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((count) => redeliveryDelayMs(policy, count))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('describeError', () => {
  it('gives one line without a stack, and bounds it', () => {
    const error = new Error('boom\n    at secret (/srv/app.js:1:1)');
    expect(describeError(error)).toBe('Error: boom');
    expect(describeError('x'.repeat(500))).toHaveLength(201);
  });
});

describe('deliverEvent', () => {
  const plan = planConsumers('d', [device.happened])[0];
  const delivery = (subject: string, data: string, deliveryCount = 1) => {
    const outcome: string[] = [];
    const d: Delivery = {
      subject,
      data,
      deliveryCount,
      ack: () => outcome.push('ack'),
      term: () => outcome.push('term'),
      nak: (delayMs) => outcome.push(`nak ${delayMs}`),
    };
    return { d, outcome };
  };
  const policy = { initialMs: 100, maxMs: 1000 };

  it('hands a valid event to the handler as the contract parses it, then acknowledges', async () => {
    const { d, outcome } = delivery(device.happened.subject, JSON.stringify({ tenant: 'demo', n: 1 }));
    const seen: unknown[] = [];
    await deliverEvent(d, plan, async (_contract, payload) => void seen.push(payload), policy);
    expect(seen).toEqual([{ tenant: 'demo', n: 1, note: 'none' }]);
    expect(outcome).toEqual(['ack']);
  });

  it('acknowledges an event of the service that was not asked for, unseen', async () => {
    const { d, outcome } = delivery(device.other.subject, JSON.stringify({ tenant: 'demo', n: 1 }));
    await deliverEvent(d, plan, async () => {
      throw new Error('must not be called');
    }, policy);
    expect(outcome).toEqual(['ack']);
  });

  it.each(['{not json', JSON.stringify({ tenant: 'demo' })])('terminates a malformed payload (%s) instead of retrying it for ever', async (data) => {
    const { d, outcome } = delivery(device.happened.subject, data);
    await deliverEvent(d, plan, async () => undefined, policy);
    expect(outcome).toEqual(['term']);
  });

  it('asks for a redelivery after a growing delay when the handler fails', async () => {
    const { d, outcome } = delivery(device.happened.subject, JSON.stringify({ tenant: 'demo', n: 1 }), 3);
    await deliverEvent(d, plan, async () => {
      throw new Error('database down');
    }, policy);
    expect(outcome).toEqual(['nak 400']);
  });
});
