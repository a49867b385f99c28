import { spawnSync } from 'node:child_process';
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
});
