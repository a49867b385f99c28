// `npm test`: prepares the checkout (packages, Prisma clients, build — the end-to-end tests run the
// compiled services as separate processes), makes sure the tools the tests need exist (PostgreSQL,
// nats-server, Chromium, helm, kubernetes-validate, opa: tools/infra/ensure-tools.mjs installs what is
// missing), runs the policies' Rego unit tests (`opa test`), then every jest test. Extra arguments go to
// jest (e.g. `npm test -- libs/token`). Fails when either fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureChromium, ensureHelm, ensureKubernetesValidate, ensureNats, ensureOpa, ensurePostgres } from '../tools/infra/ensure-tools.mjs';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';
import { setup } from './setup.mjs';

setup({ withBuild: true });
let opa;
try {
  ensurePostgres();
  ensureNats();
  ensureChromium();
  // The chart tests (tests/k8s) render with helm and validate offline with kubernetes-validate.
  ensureHelm();
  ensureKubernetesValidate();
  // The Rego unit tests (policies/*_test.rego).
  opa = ensureOpa();
} catch (error) {
  console.error(`[test] ${error.message}`);
  process.exit(1);
}

// The policies' own unit tests, as `npm run policy:check` runs them (which also checks formatting and
// that the committed bundles match the sources). A few hundred milliseconds.
const rego = spawnSync(opa.path, ['test', '--ignore', 'compiled', 'policies'], { cwd: REPO_ROOT, encoding: 'utf8' });
const regoOutput = `${rego.stdout ?? ''}${rego.stderr ?? ''}`.trim();
const regoPassed = rego.status === 0;
if (regoPassed) {
  console.log(`[test] opa test policies: ${regoOutput.split('\n').pop()}`);
} else {
  // Failing tests, or a policy that does not compile: the whole report.
  console.error(`[test] opa test policies failed${rego.error ? ` (${rego.error.message})` : ''}:\n${regoOutput}`);
}

const nodeOptions = [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning'].filter(Boolean).join(' ');
const result = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});
if (!regoPassed) console.error(`[test] the Rego unit tests failed (opa test policies, above)`);
process.exit(regoPassed ? (result.status ?? 1) : 1);
