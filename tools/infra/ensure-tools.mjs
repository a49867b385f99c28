// Makes sure the servers the tests need exist on this machine: PostgreSQL and nats-server.
// Order of preference: already installed; built with Go into .tools/bin (nats-server); Debian packages
// when running as root. Prints what it did; exits non-zero with a clear message when it cannot.
// `ensureOpa()` does the same for the `opa` CLI, which only the policy build and CI need
// (scripts/policy-build.mjs; docs/adr/0022-policy-bundles.md): it is not part of the default run.
// `ensureHelm()` and `ensureKubernetesValidate()` provide the Helm chart's checks (lint, render, and
// validation of every rendered object against the Kubernetes OpenAPI schemas, offline):
//   node tools/infra/ensure-tools.mjs --print helm|kubernetes-validate   installs if needed, prints the path
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, findPostgresBin, NATS_SERVER_MODULE, REPO_ROOT, TOOLS_BIN } from './local-infra.mjs';

/** The OPA release the committed policy bundle is built with (a different one may compile other Wasm). */
export const OPA_VERSION = '1.22.2';
export const OPA_MODULE = `github.com/open-policy-agent/opa@v${OPA_VERSION}`;

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

function opaVersionOf(path) {
  try {
    return /^Version: (\S+)/m.exec(execFileSync(path, ['version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

function onPath(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `opa` CLI to use: `OPA_BIN`, else the first of .tools/bin, PATH, $GOBIN and ~/go/bin that is
 * OPA_VERSION, else the first that exists at all. `{ path, version }`, or undefined.
 */
export function findOpa() {
  const candidates = [process.env.OPA_BIN, join(TOOLS_BIN, 'opa'), onPath('opa'), process.env.GOBIN && join(process.env.GOBIN, 'opa'), join(homedir(), 'go', 'bin', 'opa')]
    .filter((path) => path && existsSync(path))
    .map((path) => ({ path, version: opaVersionOf(path) }))
    .filter((opa) => opa.version);
  if (process.env.OPA_BIN) return candidates.find((opa) => opa.path === process.env.OPA_BIN);
  return candidates.find((opa) => opa.version === OPA_VERSION) ?? candidates[0];
}

/**
 * Finds `opa` OPA_VERSION, or installs it into .tools/bin with `go install` (~1 min) when Go is there.
 * Another version found and no Go: it is used, with a warning (its Wasm may differ from the committed
 * bundle's). Neither: a clear error, since only the policy build and CI need it.
 */
export function ensureOpa() {
  const found = findOpa();
  if (found?.version === OPA_VERSION) return found;
  if (has('go')) {
    console.log(`[tools] building ${OPA_MODULE} into .tools/bin (about a minute)`);
    mkdirSync(TOOLS_BIN, { recursive: true });
    execFileSync('go', ['install', OPA_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: TOOLS_BIN, CGO_ENABLED: '0' } });
    const installed = { path: join(TOOLS_BIN, 'opa'), version: opaVersionOf(join(TOOLS_BIN, 'opa')) };
    if (installed.version) return installed;
  }
  if (found) {
    console.log(`[tools] warning: using opa ${found.version} (${found.path}); the committed policy bundle is built with ${OPA_VERSION}`);
    return found;
  }
  throw new Error(
    `the opa CLI is needed to test and build the policies: install Go and run \`go install ${OPA_MODULE}\`, ` +
      `or download opa ${OPA_VERSION} from https://github.com/open-policy-agent/opa/releases and set OPA_BIN. ` +
      'Running the platform does not need it: the compiled bundle is committed (docs/adr/0022-policy-bundles.md).',
  );
}

/** The Helm release the chart is linted and rendered with in CI (`go install`, no binary download). */
export const HELM_VERSION = '3.19.0';
export const HELM_MODULE = `helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}`;

function helmVersionOf(path) {
  try {
    // A `go install`ed helm has no version stamped in ("v3.19"); a release binary says "v3.19.0".
    return /^v(3\.\d+)/.exec(execFileSync(path, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' }).trim())?.[1];
  } catch {
    return undefined;
  }
}

/** `helm` 3: `HELM_BIN`, else the first of .tools/bin, PATH, $GOBIN and ~/go/bin. `{ path, version }` (major.minor), or undefined. */
export function findHelm() {
  const candidates = process.env.HELM_BIN
    ? [process.env.HELM_BIN]
    : [join(TOOLS_BIN, 'helm'), onPath('helm'), process.env.GOBIN && join(process.env.GOBIN, 'helm'), join(homedir(), 'go', 'bin', 'helm')];
  for (const path of candidates.filter((candidate) => candidate && existsSync(candidate))) {
    const version = helmVersionOf(path);
    if (version) return { path, version };
  }
  return undefined;
}

/**
 * Finds helm 3, or builds HELM_VERSION into .tools/bin with `go install` (a few minutes on a fresh
 * module cache) when Go is there. Neither: a clear error (only the chart checks need it).
 */
export function ensureHelm() {
  const found = findHelm();
  if (found) return found;
  if (has('go')) {
    console.log(`[tools] building ${HELM_MODULE} into .tools/bin (a few minutes the first time)`);
    mkdirSync(TOOLS_BIN, { recursive: true });
    execFileSync('go', ['install', HELM_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: TOOLS_BIN, CGO_ENABLED: '0' } });
    const installed = findHelm();
    if (installed) return installed;
  }
  throw new Error(`helm 3 is needed to check the Helm chart: install Go and run \`go install ${HELM_MODULE}\`, or set HELM_BIN`);
}

/**
 * kubernetes-validate (PyPI) bundles the JSON schemas made from the Kubernetes OpenAPI specs of every
 * minor release it supports (here 1.25 to 1.37), so rendered manifests are validated offline; `--strict`
 * also refuses unknown fields. Pinned with its dependencies, installed in a venv under .tools/.
 */
export const KUBERNETES_VALIDATE_VERSION = '1.37.0';
const KUBERNETES_VALIDATE_REQUIREMENTS = [
  `kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}`,
  'attrs==26.1.0',
  'importlib_resources==7.1.0',
  'jsonschema==4.26.0',
  'jsonschema-specifications==2025.9.1',
  'packaging==26.3',
  'PyYAML==6.0.3',
  'referencing==0.37.0',
  'rpds-py==2026.9.1',
  'typing_extensions==4.16.0',
];
const KUBERNETES_VALIDATE_VENV = join(REPO_ROOT, '.tools', 'kubernetes-validate');

function kubernetesValidateVersionOf(path) {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).at(-1);
  } catch {
    return undefined;
  }
}

/** The kubernetes-validate CLI: `KUBERNETES_VALIDATE_BIN`, else the project's venv. `{ path, version }`, or undefined. */
export function findKubernetesValidate() {
  const path = process.env.KUBERNETES_VALIDATE_BIN ?? join(KUBERNETES_VALIDATE_VENV, 'bin', 'kubernetes-validate');
  const version = existsSync(path) ? kubernetesValidateVersionOf(path) : undefined;
  return version ? { path, version } : undefined;
}

/** Finds kubernetes-validate KUBERNETES_VALIDATE_VERSION, or installs it from PyPI into .tools/kubernetes-validate. */
export function ensureKubernetesValidate() {
  const found = findKubernetesValidate();
  if (found && (found.version === KUBERNETES_VALIDATE_VERSION || process.env.KUBERNETES_VALIDATE_BIN)) return found;
  const python = onPath('python3');
  if (!python) throw new Error('python3 is needed for kubernetes-validate (Debian: apt-get install python3 python3-venv)');
  console.log(`[tools] installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} from PyPI into .tools/kubernetes-validate`);
  rmSync(KUBERNETES_VALIDATE_VENV, { recursive: true, force: true });
  mkdirSync(join(REPO_ROOT, '.tools'), { recursive: true });
  try {
    execFileSync(python, ['-m', 'venv', KUBERNETES_VALIDATE_VENV], { stdio: 'inherit' });
  } catch {
    // Debian's python3 needs python3-venv for ensurepip.
    if (!apt('python3-venv')) throw new Error('cannot create a Python venv: install python3-venv');
    rmSync(KUBERNETES_VALIDATE_VENV, { recursive: true, force: true });
    execFileSync(python, ['-m', 'venv', KUBERNETES_VALIDATE_VENV], { stdio: 'inherit' });
  }
  execFileSync(join(KUBERNETES_VALIDATE_VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-deps', ...KUBERNETES_VALIDATE_REQUIREMENTS], { stdio: 'inherit' });
  const installed = findKubernetesValidate();
  if (!installed) throw new Error('kubernetes-validate did not install');
  return installed;
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

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--print') {
  // `--print helm|kubernetes-validate`: install when missing, print the path (for .ci/run).
  const tools = { helm: ensureHelm, 'kubernetes-validate': ensureKubernetesValidate };
  const ensure = tools[process.argv[3]];
  if (!ensure) {
    console.error(`[tools] --print takes one of: ${Object.keys(tools).join(', ')}`);
    process.exit(2);
  }
  try {
    // Progress goes to stderr: stdout is the path only.
    console.log = (...args) => console.error(...args);
    process.stdout.write(`${ensure().path}\n`);
  } catch (error) {
    console.error(`[tools] ${error.message}`);
    process.exit(1);
  }
} else if (import.meta.url === `file://${process.argv[1]}`) {
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
