// `npm test`: prepares the checkout (packages, Prisma clients, build — the end-to-end tests run the
// compiled services as separate processes), makes sure PostgreSQL and nats-server exist, then runs
// every jest test. Extra arguments go to jest (e.g. `npm test -- libs/token`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureChromium, ensureHelm, ensureKubernetesValidate, ensureNats, ensurePostgres } from '../tools/infra/ensure-tools.mjs';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';
import { setup } from './setup.mjs';

setup({ withBuild: true });
try {
  ensurePostgres();
  ensureNats();
  ensureChromium();
  // The chart tests (tests/k8s) render with helm and validate offline with kubernetes-validate.
  ensureHelm();
  ensureKubernetesValidate();
} catch (error) {
  console.error(`[test] ${error.message}`);
  process.exit(1);
}

const nodeOptions = [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning'].filter(Boolean).join(' ');
const result = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});
process.exit(result.status ?? 1);
