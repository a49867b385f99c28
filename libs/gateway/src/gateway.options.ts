import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions } from '@latchkey/messaging';

export interface GatewayOptions {
  tenants: TenantsFile;
  /** Base of every issuer and endpoint URL: `${publicUrl}/t/${tenant}`. */
  publicUrl: string;
  messaging: MessagingOptions;
  /**
   * HMAC key (≥ 32 bytes) of the pages' CSRF tokens and signed cookies; replicas must share it.
   * Without it, a random key per process (ADR 0013).
   */
  cookieKey?: Uint8Array;
  /**
   * ms since the epoch (default `Date.now`): the time the policy step pins for a delegated token's
   * decision. Tests shift it together with the delegation service's clock (LATCHKEY_CLOCK_OFFSET_MS).
   */
  clock?: () => number;
}

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
