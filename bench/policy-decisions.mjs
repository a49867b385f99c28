// The "policy" part of `npm run bench` (Latchkey only): how fast the policy decision point decides.
//   1. raw Wasm: the default bundle's compiled policy evaluated in this process through the OPA Wasm SDK
//      (one reused instance, as the service does), on a mix of inputs: RBAC, ABAC, a delegated grant;
//   2. through NATS: `policy.v1.decide` round trips to the running policy service, as the gateway will
//      ask them (ContractClient: request and reply validated by the contract), `connections` in flight,
//      then one at a time (the latency a single caller sees). Every decision is also logged on JetStream.
// Needs the compiled libraries (scripts/setup.mjs --build) and a running platform's NATS.
import { performance } from 'node:perf_hooks';

const TENANT = 'demo';
const LOCK = { type: 'device', id: 'bench-lock', attributes: { serial: 'lock-1', type: 'bike-lock', ownerId: 'adam', status: 'active', site: 'zurich', firmwareVersion: '1.4.2' } };
const GRANT = {
  id: 'bench-grant',
  delegatee: 'bianca',
  resource: 'device:lock-1',
  scopes: ['lock:unlock'],
  notBefore: '2026-01-01T00:00:00Z',
  expiresAt: '2099-01-01T00:00:00Z',
  constraints: { timeZone: 'Europe/Zurich', timeOfDay: { from: '00:00', to: '23:59' } },
};

/** What the gateway and the services will ask, roughly in the proportions they will ask it. */
export const DECISION_MIX = [
  { subject: { type: 'user', id: 'ada', roles: ['admin'], scopes: ['devices:read', 'devices:write'] }, action: { name: 'devices.suspend' }, resource: LOCK },
  { subject: { type: 'user', id: 'olga', roles: ['operator'], attributes: { sites: ['geneva'] } }, action: { name: 'devices.suspend' }, resource: LOCK },
  { subject: { type: 'user', id: 'vic', roles: ['viewer'] }, action: { name: 'devices.read' }, resource: LOCK },
  { subject: { type: 'user', id: 'adam', roles: ['device-owner'], scopes: ['lock:unlock'] }, action: { name: 'device.command.unlock' }, resource: LOCK },
  { subject: { type: 'device', id: 'bench-sensor', attributes: { deviceType: 'sensor' }, scopes: ['telemetry:write'] }, action: { name: 'device.telemetry.publish' }, resource: { type: 'device', id: 'bench-sensor', attributes: { status: 'active' } } },
  { subject: { type: 'device', id: 'bench-sensor', attributes: { deviceType: 'sensor' }, scopes: ['telemetry:write'] }, action: { name: 'device.command.unlock' }, resource: LOCK },
  {
    subject: { type: 'user', id: 'adam', roles: ['device-owner'], act: { sub: 'bianca' }, gid: 'bench-grant', scopes: ['lock:unlock'] },
    action: { name: 'device.command.unlock' },
    resource: LOCK,
    context: { grant: GRANT },
  },
  { subject: { type: 'client', id: 'demo-service' }, action: { name: 'token.scope' }, resource: { type: 'scope', id: 'devices:write' } },
];

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(latenciesMs, seconds, errors, extra = {}) {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { perSecond: latenciesMs.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), ok: latenciesMs.length, errors, seconds, ...extra };
}

/** Raw Wasm evaluations in this process for `seconds`. */
async function rawWasm(seconds) {
  const { CompiledBundle, defaultBundle } = await import('@latchkey/policy');
  const bundle = await CompiledBundle.compile(defaultBundle());
  const policy = await bundle.instantiate(bundle.data);
  const time = new Date().toISOString();
  const inputs = DECISION_MIX.map((input) => JSON.stringify({ tenant: TENANT, ...input, context: { ...input.context, time } }));
  const expected = inputs.map((input) => policy.evaluate(input).allow);
  for (let i = 0; i < 20_000; i++) policy.evaluate(inputs[i % inputs.length]); // warm-up (the Wasm tiers up)
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  let wrong = 0;
  const started = performance.now();
  for (let i = 0; performance.now() < deadline; i++) {
    const t0 = performance.now();
    const { allow } = policy.evaluate(inputs[i % inputs.length]);
    latencies.push(performance.now() - t0);
    if (allow !== expected[i % inputs.length]) wrong++;
  }
  return summary(latencies, (performance.now() - started) / 1000, wrong, { inFlight: 1, allowed: expected.filter(Boolean).length, mix: inputs.length });
}

/** `connections` callers, each sending Decide round trips one after another, for `seconds`. */
async function throughNats(client, Decide, seconds, connections) {
  const latencies = [];
  let errors = 0;
  let firstError;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const input = DECISION_MIX[next++ % DECISION_MIX.length];
        const t0 = performance.now();
        try {
          await client.send(Decide, { tenant: TENANT, ...input });
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  return summary(latencies, (performance.now() - started) / 1000, errors, { inFlight: connections, firstError: firstError?.message });
}

export async function runPolicyDecisions({ natsUrl, duration = 8, connections = 50, log, cpu }) {
  const { ContractClient, createClientProxy } = await import('@latchkey/messaging');
  const { Decide } = await import('@latchkey/contracts');

  log(`[bench] policy: raw Wasm evaluations in process, ${duration} s`);
  const raw = await rawWasm(duration);

  const transport = { kind: 'nats', servers: [natsUrl], name: 'latchkey-bench-policy' };
  const client = new ContractClient(createClientProxy(transport, 5000), { requestTimeoutMs: 5000 });
  try {
    // A probe, and the answers the mix must get (the same as in process).
    const probe = await client.send(Decide, { tenant: TENANT, ...DECISION_MIX[0] });
    if (!probe.allow) throw new Error(`policy: the probe decision was a denial (${probe.reasons.join('; ')}): is the default policy active for ${TENANT}?`);
    log(`[bench] policy: probe allowed by ${probe.policyVersion}; warm-up 2 s, then Decide through NATS ${duration} s at ${connections} in flight and ${duration} s one at a time`);
    await throughNats(client, Decide, 2, connections);
    const before = cpu?.snapshot();
    const concurrent = await throughNats(client, Decide, duration, connections);
    const concurrentCpu = before && cpu.since(before);
    const sequential = await throughNats(client, Decide, duration, 1);
    return { raw, concurrent: { ...concurrent, cpu: concurrentCpu }, sequential, policyVersion: probe.policyVersion };
  } finally {
    await client.close();
  }
}

/** The issue's target: p99 < 2 ms per decision through NATS on this machine. */
const TARGET_P99_MS = 2;

function pad(cells, widths) {
  return cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
}

/** The policy table of `npm run bench`; returns the names of the runs that had errors. */
export function reportPolicyDecisions({ raw, concurrent, sequential, policyVersion }, log) {
  log();
  log(`policy decisions (Latchkey only): default policy ${policyVersion}, tenant demo, a mix of 8 RBAC/ABAC/delegated inputs; every decision logged on JetStream`);
  const header = ['path', 'decisions/s', 'p50 ms', 'p99 ms', 'errors', 'ok', 'in flight'];
  const ms = (value) => (value < 0.1 ? value.toFixed(3) : value.toFixed(2));
  const rows = [
    ['raw Wasm evaluation (in process)', raw.perSecond.toFixed(0), ms(raw.p50), ms(raw.p99), raw.errors, raw.ok, 1],
    ['policy.v1.decide through NATS', concurrent.perSecond.toFixed(0), ms(concurrent.p50), ms(concurrent.p99), concurrent.errors, concurrent.ok, concurrent.inFlight],
    ['policy.v1.decide through NATS', sequential.perSecond.toFixed(0), ms(sequential.p50), ms(sequential.p99), sequential.errors, sequential.ok, 1],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  log(pad(header, widths));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(pad(row, widths));
  if (concurrent.cpu?.size) {
    const total = [...concurrent.cpu.values()].reduce((a, b) => a + b, 0);
    const per = (cpu) => ((1e3 * cpu) / Math.max(1, concurrent.ok)).toFixed(3);
    log(`  CPU-ms per decision at ${concurrent.inFlight} in flight: ${[...concurrent.cpu].sort((a, b) => b[1] - a[1]).map(([role, cpu]) => `${role === 'load generator (autocannon)' ? 'caller (this script)' : role} ${per(cpu)}`).join(', ')}; total ${per(total)}`);
  }
  const mark = (met) => (met ? 'MET    ' : 'NOT MET');
  log(`  ${mark(sequential.p99 < TARGET_P99_MS)} p99 < ${TARGET_P99_MS} ms per decision through NATS, one caller (${ms(sequential.p99)} ms; at ${concurrent.inFlight} in flight ${ms(concurrent.p99)} ms)`);
  const failures = [];
  for (const [name, result] of [['raw Wasm', raw], ['decide through NATS', concurrent], ['decide through NATS (one at a time)', sequential]]) {
    if (result.errors > 0) {
      failures.push(`policy ${name}`);
      log(`!!!!!!!! policy ${name}: ${result.errors} ERRORS${result.firstError ? ` (first: ${result.firstError})` : ' (wrong answers)'}. These figures are NOT valid. !!!!!!!!`);
    }
  }
  return failures;
}
