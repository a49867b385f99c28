// Makes sure the tools the tests need exist on this machine, with nothing but Node and npm to start
// from: PostgreSQL, nats-server, Chromium; the `opa` CLI (the Rego unit tests, the policy build:
// scripts/policy-build.mjs, docs/adr/0022-policy-bundles.md); `helm` and `kubernetes-validate` (the Helm
// chart's checks: lint, render, and validation of every rendered object against the Kubernetes OpenAPI
// schemas, offline). Order of preference: already installed; the Go programs (nats-server, helm, opa)
// built with `go install` into .tools/bin — with the machine's Go when it is recent enough, else with a
// Go toolchain from the Go module proxy (tools/infra/go-toolchain.mjs); kubernetes-validate from PyPI into
// a venv under .tools/; Debian packages when running as root (PostgreSQL, Chromium, python3, and
// nats-server as a last resort). Prints what it did; exits non-zero with a clear message when it cannot.
// `LATCHKEY_TOOLS_DIR` moves .tools/ elsewhere (tools/infra/local-infra.mjs).
//   node tools/infra/ensure-tools.mjs                                         PostgreSQL, nats-server, Chromium
//   node tools/infra/ensure-tools.mjs --print helm|kubernetes-validate|opa   installs if needed, prints the path
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureGo } from './go-toolchain.mjs';
import { findNatsServer, findPostgresBin, NATS_SERVER_MODULE, TOOLS_BIN, TOOLS_DIR } from './local-infra.mjs';

/** The OPA release the committed policy bundle is built with (a different one may compile other Wasm). */
export const OPA_VERSION = '1.22.2';
export const OPA_MODULE = `github.com/open-policy-agent/opa@v${OPA_VERSION}`;

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** The installers' output goes to stderr: with `--print`, stdout carries the path only. */
const PROGRESS = ['inherit', 2, 'inherit'];
let aptUpdated = false;

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `go install module` into .tools/bin (CGO off: static binaries), with a Go of at least `minimumGo`:
 * the machine's, or the pinned toolchain from the module proxy (downloaded on first use).
 */
function goInstall(module, minimumGo) {
  const go = ensureGo(minimumGo);
  mkdirSync(TOOLS_BIN, { recursive: true });
  execFileSync(go.path, ['install', module], { stdio: PROGRESS, env: { ...process.env, ...go.env, GOBIN: TOOLS_BIN, CGO_ENABLED: '0' } });
}

function apt(...packages) {
  if (!isRoot || !has('apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: PROGRESS, env });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: PROGRESS, env });
  return true;
}

export function ensurePostgres() {
  if (process.env.LATCHKEY_TEST_DATABASE_URL || findPostgresBin()) return;
  console.log('[tools] installing PostgreSQL from Debian packages');
  if (!apt('postgresql') || !findPostgresBin()) {
    throw new Error('PostgreSQL is needed by the tests: install it (Debian: apt-get install postgresql) or set LATCHKEY_TEST_DATABASE_URL');
  }
}

/** The tests start nats-server themselves (one per test file, by design): it must be on this machine. */
export function ensureNats() {
  if (findNatsServer({ recentOnly: true })) return;
  console.log(`[tools] building ${NATS_SERVER_MODULE} into ${TOOLS_BIN}`);
  try {
    goInstall(NATS_SERVER_MODULE, '1.26');
  } catch (error) {
    console.log(`[tools] cannot build nats-server (${error.message}); trying Debian packages`);
  }
  if (findNatsServer({ recentOnly: true })) return;
  // Debian's is older than NATS_SERVER_MINIMUM: slower JetStream, but the tests pass with it.
  if (findNatsServer()) return;
  console.log('[tools] installing nats-server from Debian packages');
  if (!apt('nats-server') || !findNatsServer()) {
    throw new Error(`nats-server is needed by the tests: install it (go install ${NATS_SERVER_MODULE}, or apt-get install nats-server)`);
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
 * Finds `opa` OPA_VERSION, or installs it into .tools/bin with `go install` (~1 min; opa needs Go 1.26,
 * fetched from the module proxy when the machine has no such Go). When that fails and another version
 * was found, it is used, with a warning (its Wasm may differ from the committed bundle's). Neither: a
 * clear error (the Rego tests and the policy build need it; running the platform does not).
 */
export function ensureOpa() {
  const found = findOpa();
  if (found?.version === OPA_VERSION) return found;
  let failure;
  try {
    console.log(`[tools] building ${OPA_MODULE} into ${TOOLS_BIN} (about a minute)`);
    goInstall(OPA_MODULE, '1.26');
    const installed = { path: join(TOOLS_BIN, 'opa'), version: opaVersionOf(join(TOOLS_BIN, 'opa')) };
    if (installed.version) return installed;
  } catch (error) {
    failure = error;
  }
  if (found) {
    console.log(`[tools] warning: using opa ${found.version} (${found.path}); the committed policy bundle is built with ${OPA_VERSION}`);
    return found;
  }
  throw new Error(
    `the opa CLI is needed to test and build the policies${failure ? ` and could not be built (${failure.message})` : ''}: ` +
      `run \`go install ${OPA_MODULE}\` with Go 1.26 or newer, or download opa ${OPA_VERSION} from ` +
      'https://github.com/open-policy-agent/opa/releases and set OPA_BIN. Running the platform does not need it: ' +
      'the compiled bundle is committed (docs/adr/0022-policy-bundles.md).',
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
 * module cache), with the machine's Go or one from the module proxy. Else a clear error.
 */
export function ensureHelm() {
  const found = findHelm();
  if (found) return found;
  console.log(`[tools] building ${HELM_MODULE} into ${TOOLS_BIN} (a few minutes the first time)`);
  try {
    goInstall(HELM_MODULE, '1.24');
  } catch (error) {
    throw new Error(`helm 3 is needed to check the Helm chart and could not be built (${error.message}): run \`go install ${HELM_MODULE}\` with Go 1.24 or newer, or set HELM_BIN`);
  }
  const installed = findHelm();
  if (!installed) throw new Error(`helm 3 is needed to check the Helm chart: \`go install ${HELM_MODULE}\` did not produce a working ${join(TOOLS_BIN, 'helm')}; or set HELM_BIN`);
  return installed;
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
const KUBERNETES_VALIDATE_VENV = join(TOOLS_DIR, 'kubernetes-validate');

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

/** python3: on PATH, else from Debian packages (with python3-venv, which Debian's venv needs) when running as root. */
function ensurePython() {
  const found = onPath('python3');
  if (found) return found;
  console.log('[tools] installing python3 from Debian packages (for kubernetes-validate)');
  const installed = apt('python3', 'python3-venv') ? (onPath('python3') ?? ['/usr/bin/python3'].find((path) => existsSync(path))) : undefined;
  if (!installed) throw new Error('python3 is needed for kubernetes-validate (Debian: apt-get install python3 python3-venv)');
  return installed;
}

/** Finds kubernetes-validate KUBERNETES_VALIDATE_VERSION, or installs it from PyPI into .tools/kubernetes-validate. */
export function ensureKubernetesValidate() {
  const found = findKubernetesValidate();
  if (found && (found.version === KUBERNETES_VALIDATE_VERSION || process.env.KUBERNETES_VALIDATE_BIN)) return found;
  const python = ensurePython();
  console.log(`[tools] installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} from PyPI into ${KUBERNETES_VALIDATE_VENV}`);
  rmSync(KUBERNETES_VALIDATE_VENV, { recursive: true, force: true });
  mkdirSync(TOOLS_DIR, { recursive: true });
  try {
    execFileSync(python, ['-m', 'venv', KUBERNETES_VALIDATE_VENV], { stdio: PROGRESS });
  } catch {
    // Debian's python3 needs python3-venv for ensurepip.
    if (!apt('python3-venv')) throw new Error('cannot create a Python venv: install python3-venv');
    rmSync(KUBERNETES_VALIDATE_VENV, { recursive: true, force: true });
    execFileSync(python, ['-m', 'venv', KUBERNETES_VALIDATE_VENV], { stdio: PROGRESS });
  }
  execFileSync(join(KUBERNETES_VALIDATE_VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-deps', ...KUBERNETES_VALIDATE_REQUIREMENTS], { stdio: PROGRESS });
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
  // `--print helm|kubernetes-validate|opa`: install when missing, print the path (for .ci/run).
  const tools = { helm: ensureHelm, 'kubernetes-validate': ensureKubernetesValidate, opa: ensureOpa };
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
