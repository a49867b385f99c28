import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions } from '@latchkey/messaging';

export interface GatewayOptions {
  tenants: TenantsFile;
  /** Base of every issuer and endpoint URL: `${publicUrl}/t/${tenant}`. */
  publicUrl: string;
  messaging: MessagingOptions;
}

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
