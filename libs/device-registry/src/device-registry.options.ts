import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions, OutboxRelayOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { DeviceAssertionOptions } from './authentication/device-authentication.js';
import type { ClaimThrottling } from './claims/claim-throttle.js';
import type { Clock } from './clock.js';

export interface DeviceRegistryOptions {
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  /** Base of the claim page a QR code points at: `${publicUrl}/t/${tenant}/claim?code=…` (PUBLIC_URL). */
  publicUrl: string;
  claimCodes?: {
    /** Lifetime of a claim code when the request names none (default 7 days). */
    ttlSeconds?: number;
    /** Failed claims allowed per user and per client address (defaults: DEFAULT_CLAIM_THROTTLING). */
    throttling?: { [K in keyof ClaimThrottling]?: Partial<ClaimThrottling[K]> };
  };
  /** private_key_jwt assertions of devices: longest lifetime (default 300 s) and clock skew (default 30 s). */
  deviceAssertions?: DeviceAssertionOptions;
  /** How the outbox relay publishes device events (defaults of OutboxRelay). */
  outbox?: OutboxRelayOptions;
  /** ms since the epoch; tests inject their own. */
  clock?: Clock;
}
