import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions, OutboxRelayOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { Clock } from './clock.js';

export interface ExpirySweepOptions {
  /** How often active grants past their expiry are turned into `expired` (default 5000 ms). */
  intervalMs?: number;
  /** Grants expired per transaction (default 200). */
  batchSize?: number;
}

export interface DelegationServiceOptions {
  /** `delegation` (accountScopes, maxGrantSeconds) and `deviceTypes[].ownerScopes` of each tenant. */
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  /** ms since the epoch; tests inject their own, the app shell adds LATCHKEY_CLOCK_OFFSET_MS. */
  clock?: Clock;
  /** How the outbox relay publishes delegation events (defaults of OutboxRelay). */
  outbox?: OutboxRelayOptions;
  expiry?: ExpirySweepOptions;
}
