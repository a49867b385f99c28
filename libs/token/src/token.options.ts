import type { TenantsFile } from '@latchkey/config';
import type { KeyEncryption } from '@latchkey/crypto';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { KeyRotationOptions } from './keys/key-rotation.js';
import type { ScopeDecisionOptions } from './policy/scope-decisions.js';
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
  /**
   * Scope decisions by the policy service (`token.scope`, docs/adr/0023), always on: how many allowed
   * decisions are cached (default 10 000), for at most how long (default 300 s; each for its own
   * `ttlSeconds`), and how long a decision may take (default: the messaging timeout).
   */
  scopeDecisions?: ScopeDecisionOptions;
  /** The service's clock (epoch ms) for key states and token times; tests move it. */
  clock?: Clock;
  /**
   * The time (epoch ms) pinned as `context.time` in the scope decisions of delegated tokens, whose grant
   * windows and constraints the policy checks (default: `clock`). End-to-end tests shift it together
   * with the delegation service's clock (LATCHKEY_CLOCK_OFFSET_MS), as they shift the gateway's.
   */
  delegationPolicyClock?: Clock;
}

export const TOKEN_OPTIONS = Symbol('TOKEN_OPTIONS');
