import type { TenantsFile } from '@latchkey/config';
import type { KeyEncryption } from '@latchkey/crypto';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';

/** Everything the token service is configured with, validated by the boot shell. */
export interface TokenServiceOptions {
  tenants: TenantsFile;
  /** Base of every issuer: `${publicUrl}/t/${tenant}`. */
  publicUrl: string;
  keyEncryption: KeyEncryption;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  /** How long client registrations are cached between reads (ms). */
  clientCacheTtlMs?: number;
}

export const TOKEN_OPTIONS = Symbol('TOKEN_OPTIONS');
