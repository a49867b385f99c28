// Starts throw-away PostgreSQL and NATS servers on loopback for tests, benchmarks and the distributed
// dev mode. Plain JavaScript on purpose: it runs before anything is built, from jest, scripts and CI.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * Where the tools the tests need are installed when the machine lacks them (nats-server, helm, opa, a Go
 * toolchain, the kubernetes-validate venv): `.tools/`, or `LATCHKEY_TOOLS_DIR` (e.g. to try a fresh install
 * without touching the checkout's).
 */
export const TOOLS_DIR = process.env.LATCHKEY_TOOLS_DIR ? resolve(process.env.LATCHKEY_TOOLS_DIR) : join(REPO_ROOT, '.tools');
export const TOOLS_BIN = join(TOOLS_DIR, 'bin');
export const NATS_SERVER_VERSION = '2.15.2';
export const NATS_SERVER_MODULE = `github.com/nats-io/nats-server/v2@v${NATS_SERVER_VERSION}`;
/**
 * Older servers (2.12.1 measured) publish to a file-stored stream ~10x slower while a consumer reads it
 * (docs/benchmarks.md): a bulk import's events then drained at ~650/s instead of ~7,000/s.
 */
const NATS_SERVER_MINIMUM = [2, 15, 0];

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The directory holding initdb/pg_ctl/postgres, or undefined. */
export function findPostgresBin() {
  const initdb = onPath('initdb');
  if (initdb) return resolve(initdb, '..');
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

const natsServerVersions = new Map();

/** `[major, minor, patch]` of a nats-server binary, or undefined when it does not say. */
function natsServerVersion(path) {
  if (!natsServerVersions.has(path)) {
    let version;
    try {
      const match = /v(\d+)\.(\d+)\.(\d+)/.exec(execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 }));
      version = match?.slice(1).map(Number);
    } catch {
      version = undefined;
    }
    natsServerVersions.set(path, version);
  }
  return natsServerVersions.get(path);
}

function isRecentNatsServer(path) {
  const version = natsServerVersion(path);
  if (!version) return false;
  for (let i = 0; i < NATS_SERVER_MINIMUM.length; i++) {
    if (version[i] !== NATS_SERVER_MINIMUM[i]) return version[i] > NATS_SERVER_MINIMUM[i];
  }
  return true;
}

/**
 * The nats-server to run: the first of .tools/bin, PATH and ~/go/bin that is at least
 * NATS_SERVER_MINIMUM, else (unless `recentOnly`) any of them — an older one works, only slower.
 */
export function findNatsServer({ recentOnly = false } = {}) {
  const found = [join(TOOLS_BIN, 'nats-server'), onPath('nats-server'), join(homedir(), 'go', 'bin', 'nats-server')].filter((p) => p && existsSync(p));
  return found.find(isRecentNatsServer) ?? (recentOnly ? undefined : found[0]);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** PostgreSQL refuses to run as root: use the postgres (or nobody) account then. */
function unprivilegedUser() {
  if (!isRoot()) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
      return { uid, gid };
    } catch {
      // try the next account
    }
  }
  throw new Error('running as root and no unprivileged account (postgres, nobody) exists for PostgreSQL');
}

function waitFor(check, what, timeoutMs) {
  const started = Date.now();
  return new Promise((resolveWait, reject) => {
    const attempt = async () => {
      try {
        if (await check()) return resolveWait();
      } catch {
        // not yet
      }
      if (Date.now() - started > timeoutMs) return reject(new Error(`${what} did not become ready within ${timeoutMs} ms`));
      setTimeout(attempt, 100);
    };
    attempt();
  });
}

function canConnect(port) {
  return new Promise((resolveConnect) => {
    import('node:net').then(({ connect }) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolveConnect(true);
      });
      socket.on('error', () => resolveConnect(false));
    });
  });
}

/**
 * Starts a private PostgreSQL cluster in a temporary directory on a free loopback port.
 * Returns { url, port, stop() }; `url` points at database `postgres` as superuser `latchkey`.
 */
export async function startPostgres({ port } = {}) {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found (install the Debian package "postgresql", or set LATCHKEY_TEST_DATABASE_URL)');
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-pg-'));
  const data = join(dir, 'data');
  const user = unprivilegedUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'latchkey', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore', env, cwd: dir, ...asUser });
  const pgPort = port ?? (await freePort());
  const child = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(pgPort), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'shared_buffers=128MB'],
    { stdio: 'ignore', env, cwd: dir, detached: false, ...asUser },
  );
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  await waitFor(async () => {
    if (exited) throw new Error('postgres exited');
    return canConnect(pgPort);
  }, 'PostgreSQL', 30_000);
  const url = `postgres://latchkey@127.0.0.1:${pgPort}/postgres`;
  return {
    url,
    port: pgPort,
    pid: child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGINT');
        await waitFor(async () => exited, 'PostgreSQL shutdown', 15_000).catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts nats-server with JetStream on a free loopback port. Returns { url, port, stop(), kill() }. */
export async function startNats({ port } = {}) {
  const binary = findNatsServer();
  if (!binary) throw new Error(`nats-server not found (node tools/infra/ensure-tools.mjs installs it; or apt-get install nats-server, or go install ${NATS_SERVER_MODULE})`);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-nats-'));
  const natsPort = port ?? (await freePort());
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', dir], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  await waitFor(async () => {
    if (exited) throw new Error('nats-server exited');
    return canConnect(natsPort);
  }, 'nats-server', 15_000);
  return {
    url: `nats://127.0.0.1:${natsPort}`,
    port: natsPort,
    pid: child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(async () => exited, 'nats-server shutdown', 10_000).catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
