// `npm run bench`: a benchmark, never a test. Starts the distributed platform (one process per
// service over real NATS and PostgreSQL), measures each service's idle resident memory, then loads
// the client-credentials token endpoint with autocannon and does the same against node-oidc-provider 9
// (bench/oidc-provider-peer.mjs) on the same machine, and prints the comparison. Then, Latchkey only, the
// user flows (bench/user-flows.mjs): authorization-code exchanges, rotating refresh-token chains and
// password logins with the configured argon2id cost, in a second table.
//
// Options: --duration N (seconds, default 10)  --connections N (default 50)  --warmup N (seconds, default 2)
//          --rounds N (default 1: alternate Latchkey / peer N times and report the median round of each)
//          --only latchkey|peer   --cpu-prof DIR (CPU-profile every Latchkey service during its last measured
//          run into DIR/<service>-<pid>.cpuprofile, through bench/cpu-profile.mjs; adds profiler overhead)
//          User flows: --codes N (authorization codes to exchange, default 3000)  --flow-connections N (exchanges
//          in flight and refresh chains, default 50)  --flow-duration N (seconds of refreshes and of logins,
//          default 8)  --login-connections N (logins in flight, default 8)  --no-user-flows
//          Devices (bench/device-flows.mjs): device tokens with private_key_jwt (same --duration and --connections)
//          and bulk provisioning: --bulk-devices N (default 100000)  --no-device-flows
//          Policy (bench/policy-decisions.mjs): raw Wasm evaluations in process, and policy.v1.decide through NATS
//          (same --duration and --connections, then one at a time)  --no-policy
//          Delegation (bench/delegation-flows.mjs): adam shares lock-1 with bianca, then RFC 8693 token exchanges
//          with bianca's token (same --duration and --connections)  --no-delegation-flows
// Exit code: 0 when the load ran (targets missed are reported, not failed), 1 when it could not run
// or a run had errors.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';
import { runDelegationFlows } from '../bench/delegation-flows.mjs';
import { runDeviceFlows } from '../bench/device-flows.mjs';
import { reportPolicyDecisions, runPolicyDecisions } from '../bench/policy-decisions.mjs';
import { waitForSettledPlatform } from '../bench/settle.mjs';
import { argon2Parameters, MAX_LOGIN_CONNECTIONS, runUserFlows } from '../bench/user-flows.mjs';
import { setup } from './setup.mjs';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = process.argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

const DURATION = Number(option('duration', 10));
const CONNECTIONS = Number(option('connections', 50));
const WARMUP = Number(option('warmup', 2));
const ROUNDS = Number(option('rounds', 1));
const ONLY = option('only', undefined);
const CPU_PROF_DIR = option('cpu-prof', undefined);
const CODES = Number(option('codes', 3000));
const FLOW_CONNECTIONS = Number(option('flow-connections', 50));
const FLOW_DURATION = Number(option('flow-duration', 8));
const LOGIN_CONNECTIONS = Number(option('login-connections', 8));
const USER_FLOWS = !process.argv.includes('--no-user-flows') && ONLY !== 'peer';
const BULK_DEVICES = Number(option('bulk-devices', 100_000));
const DEVICE_FLOWS = !process.argv.includes('--no-device-flows') && ONLY !== 'peer';
const POLICY = !process.argv.includes('--no-policy') && ONLY !== 'peer';
const DELEGATION_FLOWS = !process.argv.includes('--no-delegation-flows') && ONLY !== 'peer';
for (const [name, value] of [
  ['duration', DURATION],
  ['connections', CONNECTIONS],
  ['warmup', WARMUP],
  ['rounds', ROUNDS],
  ['codes', CODES],
  ['flow-connections', FLOW_CONNECTIONS],
  ['flow-duration', FLOW_DURATION],
  ['login-connections', LOGIN_CONNECTIONS],
  ['bulk-devices', BULK_DEVICES],
]) {
  if (!Number.isFinite(value) || value < 0 || (name !== 'warmup' && value < 1)) throw new Error(`--${name} must be a positive number`);
}
if (ONLY && !['latchkey', 'peer'].includes(ONLY)) throw new Error('--only must be latchkey or peer');
if (LOGIN_CONNECTIONS > MAX_LOGIN_CONNECTIONS) throw new Error(`--login-connections must be at most ${MAX_LOGIN_CONNECTIONS}: 4 per account (adam, bianca); a 6th login in flight on one account locks it (bench/user-flows.mjs)`);

const CLIENT_ID = 'demo-service';
const CLIENT_SECRET = 'demo-service-secret';
const TOKEN_REQUEST = {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: 'grant_type=client_credentials',
};
const SETTLE_MS = 3000;
const TARGET_P99_MS = 25;
const TARGET_RSS_MB = 150;

const log = (line = '') => process.stdout.write(`${line}\n`);
const mb = (kb) => kb / 1024;

/** Resident set size in kB from /proc/<pid>/status, or undefined when unavailable. */
function rssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) used so far by this process's descendants and by itself, grouped by
 * role: each Latchkey service, nats-server, PostgreSQL (all its backends), the peer, the load generator.
 */
const CLOCK_TICKS = 100;
function cpuByRole() {
  const procs = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      procs.set(Number(entry), { comm, ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
    } catch {
      // exited meanwhile
    }
  }
  const serviceOf = new Map(platform ? [...platform.processes].map(([name, child]) => [child.pid, name]) : []);
  const isOurs = (pid) => {
    for (let current = pid, hops = 0; current > 1 && hops < 10; current = procs.get(current)?.ppid ?? 0, hops += 1) if (current === process.pid) return true;
    return false;
  };
  const roles = new Map();
  for (const [pid, info] of procs) {
    if (!isOurs(pid)) continue;
    let role;
    if (pid === process.pid) role = 'load generator (autocannon)';
    else if (serviceOf.has(pid)) role = serviceOf.get(pid);
    else if (peer && pid === peer.pid) role = 'node-oidc-provider';
    else if (info.comm.startsWith('nats-server')) role = 'nats-server';
    else if (info.comm.startsWith('postgres')) role = 'postgresql';
    else continue;
    roles.set(role, (roles.get(role) ?? 0) + info.cpu);
  }
  return roles;
}

function cpuDelta(before, after) {
  return new Map([...after].map(([role, cpu]) => [role, cpu - (before.get(role) ?? 0)]).filter(([, cpu]) => cpu > 0.005));
}

/** Busy and total CPU time of the whole machine so far, in seconds, from /proc/stat. */
function machineCpu() {
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { idle: idle / CLOCK_TICKS, total: total / CLOCK_TICKS, busy: (total - idle) / CLOCK_TICKS };
}

/** CPU of every role and of the machine now; `cpuSince` turns two of them into CPU-s by role, plus other work. */
function cpuSnapshot() {
  return { roles: cpuByRole(), machine: machineCpu() };
}

function cpuSince(before) {
  const after = cpuSnapshot();
  const cpu = cpuDelta(before.roles, after.roles);
  // What the machine spent beyond the processes of this run: other people's work (or kernel time
  // not charged to a process, e.g. softirq for loopback traffic), a measure of how noisy the run was.
  const ours = [...cpu.values()].reduce((a, b) => a + b, 0);
  cpu.set('other (not this benchmark)', Math.max(0, after.machine.busy - before.machine.busy - ours));
  return cpu;
}

/** The machine's busy share of all cores over `ms`, from /proc/stat (what else is using the CPU). */
async function machineBusy(ms) {
  const sample = machineCpu;
  try {
    const before = sample();
    await sleep(ms);
    const after = sample();
    return 1 - (after.idle - before.idle) / (after.total - before.total);
  } catch {
    return undefined;
  }
}

/** The share of all cores this benchmark's own processes used over `ms` (other people's work excluded). */
async function platformBusy(ms) {
  const before = cpuSnapshot();
  await sleep(ms);
  const cpu = cpuSince(before);
  cpu.delete('other (not this benchmark)');
  const seconds = [...cpu.values()].reduce((a, b) => a + b, 0);
  return seconds / ((ms / 1000) * cpus().length);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request; throws unless it is a 200 with an access_token. Returns the token response. */
async function probe(url, name) {
  const response = await fetch(url, TOKEN_REQUEST);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${name}: probe of ${url} returned ${response.status}: ${text.slice(0, 500)}`);
  const json = JSON.parse(text);
  if (typeof json.access_token !== 'string' || !json.access_token) throw new Error(`${name}: probe of ${url} returned no access_token: ${text.slice(0, 500)}`);
  return json;
}

/** Decodes a compact JWS header; throws unless the token is a 3-part JWT signed with `alg`. */
function assertJwt(token, alg, name) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`${name}: access token is not a JWT (${parts.length} dot-separated parts)`);
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  if (header.alg !== alg) throw new Error(`${name}: access token header alg is ${header.alg}, expected ${alg}`);
  return { header, payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) };
}

function runAutocannon(url, duration) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, duration, ...TOKEN_REQUEST }, (error, result) => (error ? reject(error) : resolve(result)));
    // Ctrl-C during a run: let our own cleanup handler do the work.
    instance.on('error', () => {});
  });
}

/** Warm-up run, then the measured run; returns the figures of the measured run. */
async function load(url, name, { beforeMeasured, afterMeasured } = {}) {
  if (WARMUP > 0) {
    log(`[bench] ${name}: warm-up ${WARMUP} s`);
    await runAutocannon(url, WARMUP);
  }
  await beforeMeasured?.();
  log(`[bench] ${name}: load ${DURATION} s, ${CONNECTIONS} connections`);
  const before = cpuSnapshot();
  const result = await runAutocannon(url, DURATION);
  const cpu = cpuSince(before);
  await afterMeasured?.();
  const ok = result['2xx'];
  const errors = result.non2xx + result.errors + result.timeouts;
  return {
    tokensPerSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    errorDetail: `non-2xx ${result.non2xx}, socket errors ${result.errors}, timeouts ${result.timeouts}`,
    statusCodes: result.statusCodeStats,
    total: result.requests.total,
    ok,
    cpu,
  };
}

// ---- child processes we own, cleaned up even on failure -------------------------------------------
let platform;
let peer;
let cleaning;

function stopPeer() {
  return new Promise((resolve) => {
    if (!peer || peer.exitCode !== null || peer.signalCode !== null) return resolve();
    peer.once('exit', () => resolve());
    peer.kill('SIGTERM');
    setTimeout(() => peer.kill('SIGKILL'), 5000).unref();
  });
}

function cleanup() {
  cleaning ??= (async () => {
    const stopping = [stopPeer()];
    if (platform) stopping.push(platform.stop().catch((error) => log(`[bench] stopping the platform failed: ${error.message}`)));
    await Promise.all(stopping);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    log(`\n[bench] ${signal}: cleaning up`);
    const force = setTimeout(() => process.exit(130), 20_000);
    force.unref();
    await cleanup();
    process.exit(130);
  });
}

function startPeer() {
  return new Promise((resolve, reject) => {
    peer = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'oidc-provider-peer.mjs')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`node-oidc-provider peer did not start within 15 s\n${stderr}`)), 15_000);
    peer.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /LISTENING (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    peer.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    peer.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`node-oidc-provider peer exited (${code ?? signal}) before listening\n${stderr}`));
    });
  });
}

// ---- the run ------------------------------------------------------------------------------------
// Both systems are started (and their idle memory read) first; the loads then alternate, so a slow
// patch of a shared machine hits both rather than one. The system not under load sits idle.
async function startLatchkey() {
  const { ensureNats, ensurePostgres } = await import('../tools/infra/ensure-tools.mjs');
  ensurePostgres();
  ensureNats();
  const { startPlatform } = await import('../tools/infra/platform.mjs');
  log('[bench] starting the distributed platform (PostgreSQL, NATS, six services)');
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preloaded inspector session profiles on SIGUSR2 instead.
  const env = CPU_PROF_DIR ? { NODE_OPTIONS: `--import ${join(REPO_ROOT, 'bench', 'cpu-profile.mjs')}`, CPU_PROFILE_DIR: resolve(CPU_PROF_DIR) } : undefined;
  platform = await startPlatform({ log: 'ignore', env });
  const url = `${platform.issuer('demo')}/oauth2/token`;

  await sleep(SETTLE_MS);
  const idle = new Map([...platform.processes].map(([name, child]) => [name, rssKb(child.pid)]));

  const token = await probe(url, 'Latchkey');
  const jwt = token.access_token.split('.').length === 3 ? assertJwt(token.access_token, 'ES256', 'Latchkey') : undefined;
  log(`[bench] Latchkey probe: 200, ${jwt ? `JWT alg ${jwt.header.alg}` : 'opaque token'}, scope "${token.scope ?? ''}", expires_in ${token.expires_in}`);
  return {
    name: 'Latchkey',
    url,
    idle,
    rounds: [],
    profileHooks: CPU_PROF_DIR ? { beforeMeasured: () => signalServices('SIGUSR2', 200), afterMeasured: () => signalServices('SIGUSR2', 2000) } : undefined,
    async afterLoad() {
      this.loaded = new Map([...platform.processes].map(([name, child]) => [name, rssKb(child.pid)]));
      const dead = [...platform.processes].filter(([, child]) => child.exitCode !== null || child.signalCode !== null).map(([name]) => name);
      if (dead.length) throw new Error(`Latchkey services exited during the run: ${dead.join(', ')}`);
    },
  };
}

async function signalServices(signal, waitMs) {
  for (const child of platform.processes.values()) child.kill(signal);
  await sleep(waitMs);
}

async function startOidcProvider() {
  log('[bench] starting node-oidc-provider 9 (bench/oidc-provider-peer.mjs)');
  const port = await startPeer();
  const url = `http://127.0.0.1:${port}/token`;
  await sleep(SETTLE_MS);
  const idleKb = rssKb(peer.pid);
  const token = await probe(url, 'node-oidc-provider');
  const jwt = assertJwt(token.access_token, 'ES256', 'node-oidc-provider');
  log(`[bench] node-oidc-provider probe: 200, JWT alg ${jwt.header.alg} typ ${jwt.header.typ}, aud ${jwt.payload.aud}, expires_in ${token.expires_in}`);
  return {
    name: 'node-oidc-provider',
    url,
    idleKb,
    rounds: [],
    async afterLoad() {
      this.loadedKb = rssKb(peer.pid);
      if (peer.exitCode !== null || peer.signalCode !== null) throw new Error('node-oidc-provider exited during the run');
    },
  };
}

/** The round with the median tokens/s; with one round, that round. Errors are summed over all rounds. */
function summarize(system) {
  if (!system) return undefined;
  const sorted = [...system.rounds].sort((a, b) => a.tokensPerSecond - b.tokensPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const errors = system.rounds.reduce((total, r) => total + r.errors, 0);
  const errorDetail = system.rounds.map((r) => r.errorDetail).join('; ');
  const statusCodes = system.rounds.map((r) => r.statusCodes);
  return { ...system, ...median, errors, errorDetail, statusCodes };
}

function pad(cells, widths) {
  return cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
}

function report(latchkey, oidc, { busyBefore, loadAtEnd }) {
  const sum = (map) => [...map.values()].reduce((total, kb) => total + (kb ?? 0), 0);
  const rows = [];
  if (latchkey) rows.push(['Latchkey (6 services)', latchkey.tokensPerSecond.toFixed(0), latchkey.p50.toFixed(1), latchkey.p99.toFixed(1), latchkey.errors, `${mb(sum(latchkey.idle)).toFixed(0)} MB idle / ${mb(sum(latchkey.loaded)).toFixed(0)} MB loaded`]);
  if (oidc) rows.push(['node-oidc-provider 9.x', oidc.tokensPerSecond.toFixed(0), oidc.p50.toFixed(1), oidc.p99.toFixed(1), oidc.errors, `${mb(oidc.idleKb).toFixed(0)} MB idle / ${mb(oidc.loadedKb).toFixed(0)} MB loaded`]);
  const header = ['system', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'RSS (sum of processes; excl. NATS/PostgreSQL)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  log();
  const rounds = ROUNDS > 1 ? `; median of ${ROUNDS} alternating rounds` : '';
  log(`client_credentials token endpoint, ${CONNECTIONS} connections, ${DURATION} s after a ${WARMUP} s warm-up, loopback${rounds}`);
  log(pad(header, widths));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(pad(row, widths));
  if (latchkey && oidc) log(`ratio Latchkey / node-oidc-provider: ${(latchkey.tokensPerSecond / oidc.tokensPerSecond).toFixed(2)}x tokens/s, ${(latchkey.p99 / oidc.p99).toFixed(2)}x p99`);

  if (latchkey) {
    log();
    log('Latchkey services, resident memory (MB):');
    log(`  ${'service'.padEnd(16)}${'idle'.padStart(8)}${'after load'.padStart(12)}`);
    for (const [name, kb] of latchkey.idle) log(`  ${name.padEnd(16)}${(kb === undefined ? 'n/a' : mb(kb).toFixed(1)).padStart(8)}${(latchkey.loaded.get(name) === undefined ? 'n/a' : mb(latchkey.loaded.get(name)).toFixed(1)).padStart(12)}`);
    log(`  ${'sum'.padEnd(16)}${mb(sum(latchkey.idle)).toFixed(1).padStart(8)}${mb(sum(latchkey.loaded)).toFixed(1).padStart(12)}`);
  }

  for (const system of [latchkey, oidc]) {
    if (!system?.cpu?.size || !system.ok) continue;
    const total = [...system.cpu.values()].reduce((a, b) => a + b, 0);
    log();
    log(`CPU during the measured ${system.name} run${ROUNDS > 1 ? ' (the median round)' : ''} (${DURATION} s x ${cpus().length} cores = ${(DURATION * cpus().length).toFixed(0)} CPU-s available):`);
    log(`  ${'process'.padEnd(28)}${'CPU-s'.padStart(8)}${'share'.padStart(8)}${'CPU-ms per 1000 tokens'.padStart(25)}`);
    for (const [role, cpu] of [...system.cpu].sort((a, b) => b[1] - a[1])) {
      log(`  ${role.padEnd(28)}${cpu.toFixed(2).padStart(8)}${`${((100 * cpu) / total).toFixed(0)}%`.padStart(8)}${((1e6 * cpu) / system.ok).toFixed(0).padStart(25)}`);
    }
    log(`  ${'total'.padEnd(28)}${total.toFixed(2).padStart(8)}${''.padStart(8)}${((1e6 * total) / system.ok).toFixed(0).padStart(25)}`);
    const other = system.cpu.get('other (not this benchmark)') ?? 0;
    if (other > 0.1 * DURATION * cpus().length) log(`  !!!! ${other.toFixed(1)} CPU-s went to other work during this run: its figures are noisy; rerun on a quiet machine !!!!`);
  }

  log();
  const cores = cpus().length;
  log(`machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}; load generator, services, NATS and PostgreSQL share the same cores`);
  const busy = busyBefore === undefined ? 'unknown' : `${(100 * busyBefore).toFixed(0)}%`;
  if (busyBefore !== undefined && busyBefore > 0.15) {
    log(`!!!! the machine was ${busy} busy with other work just before the load (both systems idle); figures are noisy: rerun on a quiet machine !!!!`);
  } else {
    log(`  CPU busy just before the load, both systems idle: ${busy}; 1-min load average at the end ${loadAtEnd.toFixed(1)}`);
  }

  const failures = [];
  for (const [name, result] of [['Latchkey', latchkey], ['node-oidc-provider', oidc]]) {
    if (result && result.errors > 0) {
      failures.push(name);
      log();
      log(`!!!!!!!! ${name}: ${result.errors} ERRORS during the load (${result.errorDetail}); status codes ${JSON.stringify(result.statusCodes)}. These figures are NOT valid. !!!!!!!!`);
    }
  }

  if (latchkey) {
    log();
    log('targets:');
    const mark = (met) => (met === undefined ? 'n/a    ' : met ? 'MET    ' : 'NOT MET');
    const fasterMet = oidc ? latchkey.tokensPerSecond >= oidc.tokensPerSecond : undefined;
    log(`  ${mark(fasterMet)} tokens/s >= node-oidc-provider's (${latchkey.tokensPerSecond.toFixed(0)} vs ${oidc ? oidc.tokensPerSecond.toFixed(0) : 'not measured'})`);
    log(`  ${mark(latchkey.p99 <= TARGET_P99_MS)} p99 <= ${TARGET_P99_MS} ms (${latchkey.p99.toFixed(1)} ms)`);
    const heaviest = [...latchkey.idle].sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0];
    const rssMet = [...latchkey.idle.values()].every((kb) => kb !== undefined && mb(kb) < TARGET_RSS_MB);
    log(`  ${mark(rssMet)} every service < ${TARGET_RSS_MB} MB RSS idle (largest: ${heaviest[0]} ${mb(heaviest[1] ?? 0).toFixed(1)} MB)`);
  }
  return failures;
}

/** The second table: user flows, Latchkey only, and the CPU each of them cost. */
function reportFlows({ results, busyBefore, argon2 }) {
  log();
  log(`user flows (Latchkey only): client demo-web (client_secret_basic), scope "openid offline_access", user adam (logins: adam + bianca), loopback`);
  const header = ['flow', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'ok', 'in flight', 'how'];
  const rows = results.map((r) => [r.name, r.perSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.errors.count, r.ok, r.inFlight, r.note]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => pad(cells, widths.map((w, i) => (i === header.length - 1 ? 0 : w))).replace(/\s+$/, '');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(line(row));
  const { defaults, stored } = argon2;
  const same = stored && stored.memoryCost === defaults.memoryCost && stored.timeCost === defaults.timeCost && stored.parallelism === defaults.parallelism;
  log(
    `argon2id in force: m=${defaults.memoryCost} KiB (${(defaults.memoryCost / 1024).toFixed(0)} MiB), t=${defaults.timeCost}, p=${defaults.parallelism}: the code defaults ` +
      `(DEFAULT_PASSWORD_HASHING, ${argon2.file}); ${argon2.overridden ? 'PASSWORD_HASH_* set in the environment: they override the defaults' : 'no PASSWORD_HASH_* in the environment, so the defaults apply'}; ` +
      `${stored ? `adam's stored hash: ${stored.algorithm} m=${stored.memoryCost}, t=${stored.timeCost}, p=${stored.parallelism}${same ? ' (the same)' : ' (DIFFERENT: verification uses the stored parameters)'}` : "adam's stored hash could not be read"}`,
  );

  const phases = results.map((r) => r.short);
  // Roles that cost at least 0.05 CPU-ms per operation in some phase (idle services and the idle peer are left out).
  const roles = [...new Set(results.flatMap((r) => [...r.cpu.keys()]))].filter((role) => role !== 'other (not this benchmark)' && results.some((r) => (1e3 * (r.cpu.get(role) ?? 0)) / Math.max(1, r.ok) >= 0.05));
  const totals = results.map((r) => [...r.cpu.values()].reduce((a, b) => a + b, 0));
  roles.sort((a, b) => (results[0].cpu.get(b) ?? 0) - (results[0].cpu.get(a) ?? 0));
  log();
  log(`CPU during the user flows, CPU-ms per successful operation (each phase: its timed part only; ${cpus().length} cores):`);
  log(`  ${'process'.padEnd(28)}${phases.map((p) => p.padStart(18)).join('')}`);
  for (const role of [...roles, 'other (not this benchmark)']) {
    log(`  ${(role === 'load generator (autocannon)' ? 'load generator (this script)' : role).padEnd(28)}${results.map((r) => ((1e3 * (r.cpu.get(role) ?? 0)) / Math.max(1, r.ok)).toFixed(1).padStart(18)).join('')}`);
  }
  log(`  ${'total'.padEnd(28)}${results.map((r, i) => ((1e3 * totals[i]) / Math.max(1, r.ok)).toFixed(1).padStart(18)).join('')}`);
  log(`  ${'machine busy (all cores)'.padEnd(28)}${results.map((r, i) => `${((100 * totals[i]) / (r.seconds * cpus().length)).toFixed(0)}% of ${r.seconds.toFixed(1)} s`.padStart(18)).join('')}`);
  log(`  ${'other work'.padEnd(28)}${results.map((r) => `${(r.cpu.get('other (not this benchmark)') ?? 0).toFixed(1)} CPU-s`.padStart(18)).join('')}`);
  const busy = busyBefore === undefined ? 'unknown' : `${(100 * busyBefore).toFixed(0)}%`;
  log(`  CPU busy just before the user flows (platform idle): ${busy}`);
  for (const r of results) {
    const other = r.cpu.get('other (not this benchmark)') ?? 0;
    if (other > 0.1 * r.seconds * cpus().length) log(`  !!!! ${other.toFixed(1)} CPU-s went to other work during "${r.name}": its figures are noisy; rerun on a quiet machine !!!!`);
  }
  const failures = [];
  for (const r of results) {
    if (r.errors.count > 0) {
      failures.push(r.name);
      log();
      log(`!!!!!!!! ${r.name}: ${r.errors.count} ERRORS (${r.errorDetail}). These figures are NOT valid. !!!!!!!!`);
    }
  }
  return failures;
}

/** The third table: device tokens and bulk provisioning, Latchkey only. */
function reportDevices(devices) {
  const { tokens, bulk } = devices;
  log();
  log(`devices (Latchkey only): device tokens = client_credentials + private_key_jwt (ES256 assertion per request, client_id = device id), ${CONNECTIONS} connections, ${DURATION} s; bulk = JSON uploads of 10,000 rows to the admin API`);
  const header = ['flow', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'ok'];
  const rows = [['device tokens (private_key_jwt)', tokens.perSecond.toFixed(0), tokens.p50.toFixed(1), tokens.p99.toFixed(1), tokens.errors, tokens.ok]];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  log(pad(header, widths));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(pad(row, widths));
  const total = [...tokens.cpu.values()].reduce((a, b) => a + b, 0);
  log(`  CPU-ms per device token: ${[...tokens.cpu].sort((a, b) => b[1] - a[1]).map(([role, cpu]) => `${role} ${((1e3 * cpu) / Math.max(1, tokens.ok)).toFixed(2)}`).join(', ')}; total ${((1e3 * total) / Math.max(1, tokens.ok)).toFixed(2)}`);
  const slowest = Math.max(...bulk.uploads) / 1000;
  log();
  log(`bulk provisioning: ${bulk.devices} devices in ${bulk.seconds.toFixed(1)} s = ${bulk.perSecond.toFixed(0)} devices/s (slowest upload of 10,000: ${slowest.toFixed(1)} s); created ${bulk.counts.created}, skipped ${bulk.counts.skipped}, rejected ${bulk.counts.rejected}`);
  const rss = (kb) => (kb === undefined ? 'n/a' : `${mb(kb).toFixed(1)} MB`);
  log(`device-registry RSS during the import: before ${rss(bulk.rssKb.before)}, peak ${rss(bulk.rssKb.peak)}, after ${rss(bulk.rssKb.after)}`);
  const failures = [];
  if (tokens.errors > 0) {
    failures.push('device tokens');
    log(`!!!!!!!! device tokens: ${tokens.errors} ERRORS (${tokens.errorDetail}). These figures are NOT valid. !!!!!!!!`);
  }
  if (bulk.counts.created !== bulk.devices) {
    failures.push('bulk provisioning');
    log(`!!!!!!!! bulk provisioning created ${bulk.counts.created} of ${bulk.devices} devices. These figures are NOT valid. !!!!!!!!`);
  }
  return failures;
}

/** The fourth table: delegated tokens by RFC 8693 token exchange, Latchkey only. */
function reportDelegations({ exchange }) {
  log();
  log(`delegation (Latchkey only): token exchange (RFC 8693) by demo-app (public client) with bianca's access token for adam's lock-1 (resource device:lock-1, scope lock:unlock), the same body each time, ${CONNECTIONS} connections, ${DURATION} s`);
  const header = ['flow', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'ok'];
  const rows = [['token exchange (delegated token)', exchange.perSecond.toFixed(0), exchange.p50.toFixed(1), exchange.p99.toFixed(1), exchange.errors, exchange.ok]];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  log(pad(header, widths));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(pad(row, widths));
  const total = [...exchange.cpu.values()].reduce((a, b) => a + b, 0);
  log(`  CPU-ms per delegated token: ${[...exchange.cpu].sort((a, b) => b[1] - a[1]).map(([role, cpu]) => `${role} ${((1e3 * cpu) / Math.max(1, exchange.ok)).toFixed(2)}`).join(', ')}; total ${((1e3 * total) / Math.max(1, exchange.ok)).toFixed(2)}`);
  if (exchange.errors > 0) {
    log(`!!!!!!!! token exchange: ${exchange.errors} ERRORS (${exchange.errorDetail}). These figures are NOT valid. !!!!!!!!`);
    return ['token exchange'];
  }
  return [];
}

let exitCode = 0;
try {
  setup({ withBuild: true });
  const latchkey = ONLY === 'peer' ? undefined : await startLatchkey();
  const oidc = ONLY === 'latchkey' ? undefined : await startOidcProvider();
  const systems = [latchkey, oidc].filter(Boolean);
  // Both systems are up and idle: whatever keeps the CPU busy now is someone else's work.
  const busyBefore = await machineBusy(2000);
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const system of systems) {
      const hooks = round === ROUNDS ? system.profileHooks : undefined;
      const result = await load(system.url, ROUNDS > 1 ? `${system.name} (round ${round}/${ROUNDS})` : system.name, hooks);
      system.rounds.push(result);
      await system.afterLoad();
      if (ROUNDS > 1) log(`[bench]   ${result.tokensPerSecond.toFixed(0)} tokens/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`);
    }
  }
  let flows;
  if (USER_FLOWS && latchkey) {
    const busyBeforeFlows = await machineBusy(1000);
    log(`[bench] user flows (Latchkey only): ${CODES} authorization codes, ${FLOW_CONNECTIONS} in flight; refresh chains and logins ${FLOW_DURATION} s each`);
    try {
      const results = await runUserFlows({
        issuer: platform.issuer('demo'),
        codes: CODES,
        connections: FLOW_CONNECTIONS,
        duration: FLOW_DURATION,
        loginConnections: LOGIN_CONNECTIONS,
        log,
        cpu: { snapshot: cpuSnapshot, since: cpuSince },
      });
      const dead = [...platform.processes].filter(([, child]) => child.exitCode !== null || child.signalCode !== null).map(([name]) => name);
      if (dead.length) throw new Error(`Latchkey services exited during the user flows: ${dead.join(', ')}`);
      flows = { results, busyBefore: busyBeforeFlows, argon2: await argon2Parameters(REPO_ROOT, platform.databaseUrl) };
    } catch (error) {
      // The client-credentials figures above are still valid: report them, then this failure.
      flows = { error };
    }
  }
  let devices;
  if (DEVICE_FLOWS && latchkey) {
    try {
      const registry = platform.processes.get('device-registry');
      devices = await runDeviceFlows({
        issuer: platform.issuer('demo'),
        connections: CONNECTIONS,
        duration: DURATION,
        bulkDevices: BULK_DEVICES,
        registryRssKb: () => rssKb(registry.pid),
        cpu: { snapshot: cpuSnapshot, since: cpuSince },
        log,
      });
      const dead = [...platform.processes].filter(([, child]) => child.exitCode !== null || child.signalCode !== null).map(([name]) => name);
      if (dead.length) throw new Error(`Latchkey services exited during the device flows: ${dead.join(', ')}`);
    } catch (error) {
      devices = { error };
    }
    // The import's events are still being consumed: time the next phases on a settled platform.
    const settle = await waitForSettledPlatform({ natsUrl: platform.natsUrl, busy: platformBusy });
    log(
      settle.settled
        ? `[bench] after the bulk import: events consumed and the platform idle again after ${settle.seconds.toFixed(1)} s`
        : `[bench] !!!! the platform had not settled ${settle.seconds.toFixed(0)} s after the bulk import (${settle.pending} events pending, the platform ${(settle.busy * 100).toFixed(0)}% busy): the next phases are measured anyway !!!!`,
    );
  }
  let delegations;
  if (DELEGATION_FLOWS && latchkey) {
    try {
      delegations = await runDelegationFlows({ issuer: platform.issuer('demo'), connections: CONNECTIONS, duration: DURATION, cpu: { snapshot: cpuSnapshot, since: cpuSince }, log });
      const dead = [...platform.processes].filter(([, child]) => child.exitCode !== null || child.signalCode !== null).map(([name]) => name);
      if (dead.length) throw new Error(`Latchkey services exited during the delegation flows: ${dead.join(', ')}`);
    } catch (error) {
      delegations = { error };
    }
  }
  let policy;
  if (POLICY && latchkey) {
    try {
      policy = await runPolicyDecisions({ natsUrl: platform.natsUrl, duration: DURATION, connections: CONNECTIONS, cpu: { snapshot: cpuSnapshot, since: cpuSince }, log });
      const dead = [...platform.processes].filter(([, child]) => child.exitCode !== null || child.signalCode !== null).map(([name]) => name);
      if (dead.length) throw new Error(`Latchkey services exited during the policy decisions: ${dead.join(', ')}`);
    } catch (error) {
      policy = { error };
    }
  }
  const failures = report(summarize(latchkey), summarize(oidc), { busyBefore, loadAtEnd: loadavg()[0] });
  if (flows?.error) {
    log(`\n!!!!!!!! user flows could not run: ${flows.error.stack ?? flows.error.message} !!!!!!!!`);
    failures.push('user flows');
  } else if (flows) failures.push(...reportFlows(flows));
  if (devices?.error) {
    log(`\n!!!!!!!! device flows could not run: ${devices.error.stack ?? devices.error.message} !!!!!!!!`);
    failures.push('device flows');
  } else if (devices) failures.push(...reportDevices(devices));
  if (delegations?.error) {
    log(`\n!!!!!!!! delegation flows could not run: ${delegations.error.stack ?? delegations.error.message} !!!!!!!!`);
    failures.push('delegation flows');
  } else if (delegations) failures.push(...reportDelegations(delegations));
  if (policy?.error) {
    log(`\n!!!!!!!! policy decisions could not run: ${policy.error.stack ?? policy.error.message} !!!!!!!!`);
    failures.push('policy decisions');
  } else if (policy) failures.push(...reportPolicyDecisions(policy, log));
  if (CPU_PROF_DIR) log(`\nCPU profiles of the last measured Latchkey run (profiler overhead included in its figures): ${resolve(CPU_PROF_DIR)}`);
  if (failures.length) exitCode = 1;
} catch (error) {
  log(`\n[bench] FAILED: ${error.stack ?? error.message}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
