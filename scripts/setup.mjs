// Prepares a checkout to run: installs npm packages when missing or stale, generates the Prisma
// clients, and (with --build) compiles every app and lib. Safe and quick to run again.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args, env = {}) {
  execFileSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

export function installPackages() {
  const marker = join(REPO_ROOT, 'node_modules', '.package-lock.json');
  if (mtime(marker) >= mtime(join(REPO_ROOT, 'package-lock.json')) && existsSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'))) return;
  console.log('[setup] installing npm packages (npm ci)');
  run(npm, ['ci', '--no-audit', '--no-fund']);
}

export function generatePrismaClients() {
  run(process.execPath, [join(REPO_ROOT, 'scripts', 'prisma-generate.mjs')]);
}

export function build() {
  console.log('[setup] compiling (tsc -b)');
  run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.build.json']);
}

export function setup({ withBuild = false } = {}) {
  installPackages();
  generatePrismaClients();
  if (withBuild) build();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  setup({ withBuild: process.argv.includes('--build') });
}
