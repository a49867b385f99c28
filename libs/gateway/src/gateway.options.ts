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
}

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
