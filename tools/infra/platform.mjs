// Runs the distributed platform: one process per service over a real NATS server and a real
// PostgreSQL. Used by `npm run start:distributed`, the end-to-end tests and the benchmark.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, REPO_ROOT, startNats, startPostgres } from './local-infra.mjs';

export const SERVICES = ['identity', 'token', 'delegation', 'device-registry', 'policy', 'gateway'];

/** Creates a fresh database on a PostgreSQL server and returns its URL. */
export async function createDatabase(adminUrl, name = `latchkey_${randomBytes(5).toString('hex')}`) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

export async function dropDatabase(adminUrl, name) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function migrate(databaseUrl) {
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'db-migrate.mjs')], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DATABASE_URL: databaseUrl } });
}

async function waitForReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/**
 * Starts the six services (and, when not given, a PostgreSQL and a NATS server of its own).
 * Options: databaseUrl, natsUrl, port, publicUrl, tenantsFile, kek, log ('inherit' | 'ignore' | 'prefix'),
 * env (every service), serviceEnv ({ [service]: { VAR: value } }: one service only, e.g. the delegation
 * service's LATCHKEY_CLOCK_OFFSET_MS, so a test can move one clock without shifting the others).
 * `startReplica(name, env?)` runs one more process of a service (a rolling restart); `stop()` stops them too.
 */
export async function startPlatform(options = {}) {
  // A typo in a service name would silently leave that service's clock (or whatever) unshifted.
  const unknown = Object.keys(options.serviceEnv ?? {}).filter((name) => !SERVICES.includes(name));
  if (unknown.length) throw new Error(`serviceEnv names no service: ${unknown.join(', ')} (services: ${SERVICES.join(', ')})`);
  const owned = [];
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl) {
    const postgres = await startPostgres();
    owned.push(postgres);
    databaseUrl = (await createDatabase(postgres.url, 'latchkey')).url;
  }
  let natsUrl = options.natsUrl;
  if (!natsUrl) {
    const nats = await startNats();
    owned.push(nats);
    natsUrl = nats.url;
  }
  migrate(databaseUrl);

  const port = options.port ?? (await freePort());
  const publicUrl = options.publicUrl ?? `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: publicUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    TENANTS_FILE: options.tenantsFile ?? join(REPO_ROOT, 'config', 'tenants.dev.yaml'),
    LATCHKEY_KEK: options.kek ?? randomBytes(32).toString('base64'),
    LOG_LEVEL: options.logLevel ?? 'warn',
    // Tests and benchmarks oversubscribe two cores with a dozen processes: a 1.5 s deadline (the
    // production default) then fails healthy requests. A stopped service is still detected at once
    // (NATS answers "no responders"), so the resilience tests are unaffected.
    NATS_REQUEST_TIMEOUT_MS: process.env.NATS_REQUEST_TIMEOUT_MS ?? '5000',
    // glibc gives each thread its own malloc arena; Node's few threads need no more than two (as in the image).
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    ...options.env,
  };
  const log = options.log ?? 'ignore';
  const processes = new Map();

  // `extraEnv` (a restart with, say, another clock offset) wins over serviceEnv, which wins over env.
  const startService = (name, extraEnv = {}) => {
    const child = spawnService(name, { ...options.serviceEnv?.[name], ...extraEnv });
    processes.set(name, child);
    return child;
  };

  function spawnService(name, serviceEnv) {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', name, 'dist', 'main.js')], {
      cwd: REPO_ROOT,
      env: { ...env, ...serviceEnv },
      stdio: log === 'inherit' ? 'inherit' : log === 'prefix' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'],
    });
    if (log === 'prefix') {
      for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => process.stdout.write(prefixLines(name, chunk)));
    } else if (log === 'ignore') {
      // Keep a short tail of stderr for the error message when a service dies at start.
      child.stderrTail = '';
      child.stderr.on('data', (chunk) => (child.stderrTail = (child.stderrTail + chunk).slice(-4000)));
    }
    return child;
  }

  // Resolves with how the process ended (stopChild); SIGKILL after 10 s.
  const stopService = (name, signal = 'SIGTERM') => stopChild(processes.get(name), signal, 10_000);

  // Extra replicas (startReplica): each on its own probe port (HEALTH_PORT), a gateway also on its own
  // HTTP port; they join their service's NATS queue group, so they share its work at once.
  const replicas = new Set();
  const startReplica = async (name, extraEnv = {}) => {
    if (!SERVICES.includes(name)) throw new Error(`no service ${name} (services: ${SERVICES.join(', ')})`);
    const replicaEnv = { ...options.serviceEnv?.[name], ...extraEnv };
    let url;
    let readyUrl;
    if (name === 'gateway') {
      const replicaPort = Number(replicaEnv.PORT ?? (await freePort()));
      replicaEnv.PORT = String(replicaPort);
      url = `http://127.0.0.1:${replicaPort}`;
      readyUrl = `${url}/readyz`;
    } else {
      const healthPort = Number(replicaEnv.HEALTH_PORT ?? (await freePort()));
      replicaEnv.HEALTH_PORT = String(healthPort);
      url = `http://127.0.0.1:${healthPort}`;
      readyUrl = `${url}/readyz`;
    }
    const child = spawnService(name, replicaEnv);
    const replica = {
      name,
      process: child,
      pid: child.pid,
      /** The gateway's HTTP base URL, or the probe server's (/healthz, /readyz, /metrics) of another service. */
      url,
      ready: (timeoutMs = 30_000) => waitForReady(readyUrl, timeoutMs),
      stop: (signal = 'SIGTERM', killAfterMs = 10_000) => stopChild(child, signal, killAfterMs),
    };
    replicas.add(replica);
    return replica;
  };

  for (const name of SERVICES) startService(name);
  try {
    await waitForReady(`${publicUrl}/readyz`, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    const tails = [...processes].map(([name, child]) => `${name}: ${child.stderrTail ?? ''}`).join('\n');
    await Promise.all(SERVICES.map((name) => stopService(name)));
    await Promise.all([...replicas].map((replica) => replica.stop()));
    for (const server of owned) await server.stop();
    throw new Error(`${error.message}\n${tails}`);
  }

  return {
    url: publicUrl,
    issuer: (tenant = 'demo') => `${publicUrl}/t/${tenant}`,
    databaseUrl,
    natsUrl,
    processes,
    startService,
    stopService,
    startReplica,
    waitForReady: (timeoutMs = 30_000) => waitForReady(`${publicUrl}/readyz`, timeoutMs),
    async stop() {
      await Promise.all([...SERVICES.map((name) => stopService(name)), ...[...replicas].map((replica) => replica.stop())]);
      for (const server of owned) await server.stop();
    },
  };
}

/**
 * Sends `signal` and waits for the exit; SIGKILL after `killAfterMs`. Resolves with how it ended:
 * `{ code, signal, elapsedMs, killed }` (`killed`: it needed the SIGKILL).
 */
function stopChild(child, signal, killAfterMs) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return resolve({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null, elapsedMs: 0, killed: false });
    }
    const started = Date.now();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    timer.unref();
    child.once('exit', (code, exitSignal) => {
      clearTimeout(timer);
      resolve({ code, signal: exitSignal, elapsedMs: Date.now() - started, killed: killed || (exitSignal === 'SIGKILL' && signal !== 'SIGKILL') });
    });
    child.kill(signal);
  });
}

function prefixLines(name, chunk) {
  return chunk
    .toString()
    .split('\n')
    .filter((line) => line.length)
    .map((line) => `[${name}] ${line}\n`)
    .join('');
}
