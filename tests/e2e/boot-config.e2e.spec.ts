import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = join(import.meta.dirname, '..', '..');
const boot = (service: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [join(root, 'apps', service, 'dist', 'main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

/** Exit 1, `invalid configuration` and one readable line per bad variable, no stack trace. */
function expectRefused(result: ReturnType<typeof boot>, variables: string[]) {
  expect({ status: result.status, signal: result.signal }).toEqual({ status: 1, signal: null });
  expect(result.stderr).toMatch(/^invalid configuration:\n/);
  for (const name of variables) expect(result.stderr).toMatch(new RegExp(`^  - ${name}(\\.\\d+)?: \\S.*$`, 'm'));
  expect(result.stderr).not.toMatch(/\n\s+at |failed to start|ZodError|node:internal/);
}

describe('services fail fast on a bad configuration', () => {
  it('case=should name every bad variable and exit 1 without a stack trace (token)', () => {
    const result = boot('token', { DATABASE_URL: 'mysql://nope', LATCHKEY_KEK: 'too-short', NATS_URL: 'http://x', PUBLIC_URL: 'not a url' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/invalid configuration/);
    for (const name of ['DATABASE_URL', 'LATCHKEY_KEK', 'NATS_URL', 'PUBLIC_URL']) expect(result.stderr).toContain(name);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('case=should refuse a missing DATABASE_URL (identity)', () => {
    const result = boot('identity', {});
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/DATABASE_URL/);
  });

  it('case=should refuse an unreadable or invalid tenants file (gateway)', () => {
    const missing = boot('gateway', { TENANTS_FILE: '/nonexistent/tenants.yaml' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read tenants file \/nonexistent\/tenants.yaml: ENOENT/);
    const invalid = boot('gateway', { TENANTS_FILE: join(root, 'package.json'), PORT: '70000' });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/PORT/);
  });

  it.each([
    ['delegation', { DATABASE_URL: 'mysql://x', NATS_URL: 'http://x', LATCHKEY_CLOCK_OFFSET_MS: 'soon' }, ['DATABASE_URL', 'NATS_URL', 'LATCHKEY_CLOCK_OFFSET_MS']],
    ['device-registry', { DATABASE_URL: 'mysql://x', NATS_URL: 'nats://127.0.0.1:4222', PUBLIC_URL: 'ftp://x/' }, ['DATABASE_URL', 'PUBLIC_URL']],
    ['policy', { DATABASE_URL: 'mysql://x', NATS_URL: 'http://x' }, ['DATABASE_URL', 'NATS_URL']],
  ])('case=should name every bad variable and exit 1 without a stack trace (%s)', (service, env, variables) => {
    expectRefused(boot(service, env), variables);
  });

  it('case=should refuse a missing DATABASE_URL (delegation, device-registry, policy)', () => {
    for (const service of ['delegation', 'device-registry', 'policy']) expectRefused(boot(service, {}), ['DATABASE_URL']);
  });

  it('case=should name every bad variable and exit 1 without a stack trace (embedded all-in-one)', () => {
    // Refused before anything starts: no embedded PostgreSQL, no port taken, nothing written to the data dir.
    const result = boot('embedded', { PORT: '70000', PUBLIC_URL: 'not a url', LATCHKEY_KEK: 'too-short', LATCHKEY_DATA_DIR: join(root, 'tmp', 'boot-config-never-created') });
    expectRefused(result, ['PORT', 'PUBLIC_URL', 'LATCHKEY_KEK']);
    expect(existsSync(join(root, 'tmp', 'boot-config-never-created'))).toBe(false);
  });
});
