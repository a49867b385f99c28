import type { TenantsFile } from '@latchkey/config';
import type { KeyEncryption } from '@latchkey/crypto';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { KeyRotationOptions } from './keys/key-rotation.js';
import type { UserCodeThrottleOptions } from './device/user-code-throttle.js';
import type { Clock } from './tokens/access-tokens.js';
import type { DeviceRevocationOptions } from './tokens/device-revocation-feed.js';

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
  /** How signing keys rotate (docs/adr/0010-signing-key-rotation.md); defaults when absent. */
  keyRotation?: KeyRotationOptions;
  /** Lifetimes of the authorization-code flow (seconds); defaults: interactions 600, codes 60. */
  authorization?: { interactionTtlSeconds?: number; codeTtlSeconds?: number };
  /** Refresh-token lifetimes (seconds) for clients that set none; defaults: absolute 30 days, idle 14 days. */
  refreshTokens?: { absoluteSeconds?: number; idleSeconds?: number };
  /**
   * RFC 8628 device flow (docs/adr/0014); defaults: codes live 600 s, polling interval 5 s, 10 failed
   * user-code lookups per IP in 15 min lock the IP out for 15 min.
   */
  deviceFlow?: { codeTtlSeconds?: number; intervalSeconds?: number; userCodeThrottle?: UserCodeThrottleOptions };
  /** private_key_jwt client assertions: longest accepted lifetime (default 300 s) and clock skew (default 30 s). */
  clientAssertions?: { maxLifetimeSeconds?: number; skewSeconds?: number };
  /** Devices as clients (docs/adr/0017): the allowance added to a device event's time when it revokes the device's tokens (default 100 ms). */
  deviceRevocation?: DeviceRevocationOptions;
  /** The service's clock (epoch ms) for key states and token times; tests move it. */
  clock?: Clock;
}

export const TOKEN_OPTIONS = Symbol('TOKEN_OPTIONS');
