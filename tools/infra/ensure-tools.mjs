// Makes sure the servers the tests need exist on this machine: PostgreSQL and nats-server.
// Order of preference: already installed; built with Go into .tools/bin (nats-server); Debian packages
// when running as root. Prints what it did; exits non-zero with a clear message when it cannot.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { findNatsServer, findPostgresBin, NATS_SERVER_MODULE, TOOLS_BIN } from './local-infra.mjs';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let aptUpdated = false;

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function apt(...packages) {
  if (!isRoot || !has('apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  return true;
}

export function ensurePostgres() {
  if (process.env.LATCHKEY_TEST_DATABASE_URL || findPostgresBin()) return;
  console.log('[tools] installing PostgreSQL from Debian packages');
  if (!apt('postgresql') || !findPostgresBin()) {
    throw new Error('PostgreSQL is needed by the tests: install it (Debian: apt-get install postgresql) or set LATCHKEY_TEST_DATABASE_URL');
  }
}

export function ensureNats() {
  if (process.env.LATCHKEY_TEST_NATS_URL || findNatsServer()) return;
  if (has('go')) {
    console.log(`[tools] building ${NATS_SERVER_MODULE} into .tools/bin`);
    mkdirSync(TOOLS_BIN, { recursive: true });
    try {
      execFileSync('go', ['install', NATS_SERVER_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: TOOLS_BIN, CGO_ENABLED: '0' } });
    } catch {
      console.log('[tools] go install failed; trying Debian packages');
    }
    if (findNatsServer()) return;
  }
  console.log('[tools] installing nats-server from Debian packages');
  if (!apt('nats-server') || !findNatsServer()) {
    throw new Error(`nats-server is needed by the tests: install it (apt-get install nats-server, or go install ${NATS_SERVER_MODULE}) or set LATCHKEY_TEST_NATS_URL`);
  }
}

/** The browser the end-to-end page tests drive through playwright-core (no browser download of its own). */
export function findChromium() {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
}

export function ensureChromium() {
  if (findChromium()) return;
  console.log('[tools] installing Chromium from Debian packages (browser tests)');
  if (!apt('chromium') || !findChromium()) {
    throw new Error('Chromium is needed by the browser tests: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensurePostgres();
    ensureNats();
    ensureChromium();
    console.log('[tools] PostgreSQL, nats-server and Chromium are available');
  } catch (error) {
    console.error(`[tools] ${error.message}`);
    process.exit(1);
  }
}
