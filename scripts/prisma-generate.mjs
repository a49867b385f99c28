// Generates each service's Prisma client when its schema changed since the last generation.
// Generation never runs the native schema engine, so a stub stands in for it on machines that cannot
// download it (docs/adr/0003-prisma-migrations-offline.md).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';

const CLIENTS = [
  ['token', 'token'],
  ['identity', 'identity'],
  ['devices', 'device-registry'],
  ['delegation', 'delegation'],
  ['policy', 'policy'],
];

const force = process.argv.includes('--force');
const prisma = join(REPO_ROOT, 'node_modules', '.bin', 'prisma');
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' };

for (const [schemaDir, lib] of CLIENTS) {
  const schema = join(REPO_ROOT, 'prisma', schemaDir, 'schema.prisma');
  const marker = join(REPO_ROOT, 'libs', lib, 'src', 'generated', 'prisma', 'client.ts');
  if (!force && existsSync(marker) && statSync(marker).mtimeMs >= statSync(schema).mtimeMs) continue;
  console.log(`[prisma] generating the ${lib} client`);
  execFileSync(prisma, ['generate', '--schema', schema], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'], env });
}
