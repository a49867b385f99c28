import { describe, expect, it } from '@jest/globals';
import { type DecisionLogEntry, type ParsedDecisionInput, PolicyDecisionsLogged } from '@latchkey/contracts';
import type { EventStream } from '@latchkey/messaging';
import type { TenantPolicies } from '../tenants/tenant-policies.js';
import type { PolicyInstance, PolicyOutput } from '../wasm/compiled-policy.js';
import { PolicyEvaluationError } from '../wasm/compiled-policy.js';
import { canonicalJson, sha256Digest } from './canonical-json.js';
import { DecisionLog } from './decision-log.js';
import { DecisionPoint } from './decision-point.js';

const NOW = Date.parse('2026-11-19T18:30:00Z');

class RecordingLog {
  entries: { tenant: string; entry: DecisionLogEntry }[] = [];
  record(tenant: string, entry: DecisionLogEntry) {
    this.entries.push({ tenant, entry });
  }
}

function pointWith(evaluate: (input: string) => PolicyOutput, unavailable?: string) {
  const instance = unavailable ? null : ({ evaluate } as unknown as PolicyInstance);
  const policies = { get: () => ({ instance, unavailable, policyVersion: 'b0.d0@test' }) } as unknown as TenantPolicies;
  const log = new RecordingLog();
  return { point: new DecisionPoint(policies, log as unknown as DecisionLog, () => NOW), log };
}

const input: ParsedDecisionInput = {
  subject: { type: 'user', id: 'adam', roles: ['device-owner'], act: { sub: 'bianca' }, attributes: { email: 'adam@example.com' } },
  action: { name: 'device.command.unlock' },
  resource: { type: 'device', id: 'dev-1', attributes: { serial: 'lock-1' } },
  context: { ip: '192.0.2.1' },
};

describe('decision point', () => {
  it('gives the policy the tenant and the decision time, and logs a digest of exactly that input', () => {
    let seen = '';
    const { point, log } = pointWith((text) => {
      seen = text;
      return { allow: true, reasons: ['ok'], ttlSeconds: 30 };
    });
    expect(point.decide('demo', input)).toEqual({ allow: true, reasons: ['ok'], ttlSeconds: 30, policyVersion: 'b0.d0@test' });
    expect(JSON.parse(seen)).toEqual({ tenant: 'demo', ...input, context: { ip: '192.0.2.1', time: '2026-11-19T18:30:00.000Z' } });
    expect(log.entries).toEqual([
      {
        tenant: 'demo',
        entry: {
          decisionId: expect.any(String),
          at: '2026-11-19T18:30:00.000Z',
          inputDigest: sha256Digest(canonicalJson(JSON.parse(seen))),
          subject: { type: 'user', id: 'adam', act: { sub: 'bianca' } },
          action: 'device.command.unlock',
          resource: { type: 'device', id: 'dev-1' },
          allow: true,
          reasons: ['ok'],
          policyVersion: 'b0.d0@test',
          latencyUs: expect.any(Number),
        },
      },
    ]);
    // Attributes and context stay out of the log.
    expect(JSON.stringify(log.entries)).not.toMatch(/adam@example.com|192\.0\.2\.1/);
  });

  it('keeps the caller\'s time when it pins one', () => {
    let seen = '';
    const { point } = pointWith((text) => ((seen = text), { allow: false, reasons: [] }));
    point.decide('demo', { ...input, context: { time: '2026-01-01T00:00:00Z' } });
    expect(JSON.parse(seen).context.time).toBe('2026-01-01T00:00:00Z');
  });

  it('denies when the evaluation fails, and never lets a denial be cached', () => {
    const failing = pointWith(() => {
      throw new PolicyEvaluationError('evaluation failed: boom');
    });
    expect(failing.point.decide('demo', input)).toEqual({ allow: false, reasons: ['policy_error: evaluation failed: boom'], policyVersion: 'b0.d0@test' });
    expect(failing.log.entries[0]!.entry.allow).toBe(false);
    const cachedDeny = pointWith(() => ({ allow: false, reasons: ['no'], ttlSeconds: 60 }));
    expect(cachedDeny.point.decide('demo', input)).toEqual({ allow: false, reasons: ['no'], policyVersion: 'b0.d0@test' });
    const unavailable = pointWith(() => ({ allow: true, reasons: [] }), 'stored bundle broken');
    expect(unavailable.point.decide('demo', input).reasons).toEqual(['policy_unavailable: stored bundle broken']);
  });

  it('answers a batch in order, at one time', () => {
    const { point } = pointWith((text) => ({ allow: JSON.parse(text).action.name === 'devices.read', reasons: [] }));
    const results = point.decideBatch('demo', [input, { ...input, action: { name: 'devices.read' } }]);
    expect(results.map((r) => r.allow)).toEqual([false, true]);
  });
});

describe('decision log', () => {
  class SlowStream {
    published: { subject: string; payload: { tenant: string; decisions: unknown[] } }[] = [];
    pending: (() => void)[] = [];
    async publishRaw(subject: string, payload: { tenant: string; decisions: unknown[] }) {
      await new Promise<void>((resolve) => this.pending.push(resolve));
      this.published.push({ subject, payload });
    }
    release() {
      this.pending.splice(0).forEach((resolve) => resolve());
    }
  }
  const entry = (n: number) => ({ decisionId: `d-${n}` }) as unknown as DecisionLogEntry;

  it('publishes batches per tenant of at most 200, off the caller\'s path, and flushes at close', async () => {
    const stream = new SlowStream();
    const log = new DecisionLog(stream as unknown as EventStream, { flushMs: 1, maxInFlight: 2 });
    for (let n = 0; n < 450; n++) log.record(n % 10 === 0 ? 'other' : 'demo', entry(n));
    expect(stream.published).toEqual([]);
    const closing = log.close();
    for (let i = 0; i < 10 && stream.published.length < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      stream.release();
    }
    await closing;
    const batches = stream.published.map((e) => `${e.subject} ${e.payload.tenant} ${e.payload.decisions.length}`).sort();
    expect(batches).toEqual([`${PolicyDecisionsLogged.subject} demo 200`, `${PolicyDecisionsLogged.subject} demo 200`, `${PolicyDecisionsLogged.subject} demo 5`, `${PolicyDecisionsLogged.subject} other 45`]);
    expect(log.droppedCount).toBe(0);
  });

  it('drops and counts what exceeds its bound instead of growing', () => {
    const stream = new SlowStream();
    const log = new DecisionLog(stream as unknown as EventStream, { flushMs: 60_000, maxBuffered: 3 });
    for (let n = 0; n < 5; n++) log.record('demo', entry(n));
    expect(log.droppedCount).toBe(2);
    void log.close();
    stream.release();
  });
});
