import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GatewayEnv, KeyEncryptionKey } from '@latchkey/config';
import { z } from 'zod';

export const EmbeddedEnv = GatewayEnv.omit({ NATS_URL: true }).extend({
  PORT: GatewayEnv.shape.PORT.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Where the embedded PostgreSQL keeps its files and the development KEK lives. */
  LATCHKEY_DATA_DIR: z.string().min(1).default('.data'),
  LATCHKEY_KEK: KeyEncryptionKey.optional(),
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5000),
});

/**
 * The all-in-one process is for a developer's machine: without a KEK in the environment it makes one
 * and keeps it beside the data it protects (never do this in production).
 */
export function developmentKek(dataDir: string, given: string | undefined): string {
  if (given) return given;
  const file = join(dataDir, 'dev-kek');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const kek = randomBytes(32).toString('base64');
  writeFileSync(file, `${kek}\n`, { mode: 0o600 });
  return kek;
}
