// `npm start`: the whole platform on this machine with nothing but Node: all six services in one
// process over an embedded PostgreSQL (PGlite). `npm run start:distributed`: one process per service
// over real NATS and PostgreSQL (given as NATS_URL / DATABASE_URL, or started here from local binaries).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/infra/local-infra.mjs';
import { setup } from './setup.mjs';

setup({ withBuild: true });

if (process.argv.includes('--distributed')) {
  const { ensureNats, ensurePostgres } = await import('../tools/infra/ensure-tools.mjs');
  const { startPlatform } = await import('../tools/infra/platform.mjs');
  if (!process.env.DATABASE_URL) ensurePostgres();
  if (!process.env.NATS_URL) ensureNats();
  if (process.env.DATABASE_URL && !process.env.LATCHKEY_KEK) {
    console.error('LATCHKEY_KEK is required with an existing DATABASE_URL (32 random bytes, base64): the signing keys in it are encrypted with it.');
    process.exit(1);
  }
  const platform = await startPlatform({
    databaseUrl: process.env.DATABASE_URL,
    natsUrl: process.env.NATS_URL,
    port: Number(process.env.PORT ?? 3000),
    publicUrl: process.env.PUBLIC_URL ?? 'http://localhost:3000',
    kek: process.env.LATCHKEY_KEK,
    log: 'prefix',
    logLevel: process.env.LOG_LEVEL ?? 'log',
  });
  console.log(`\nLatchkey (distributed: one process per service) is running at ${platform.url}`);
  console.log(`  issuer ${platform.issuer()}   NATS ${platform.natsUrl}   PostgreSQL ${platform.databaseUrl}`);
  console.log('  demo client demo-service / demo-service-secret; users adam / adam-password, bianca / bianca-password\n');
  const shutdown = async () => {
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'embedded', 'dist', 'main.js')], { cwd: REPO_ROOT, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}
