import type { TenantConfig } from '@latchkey/config';

/** Whether the tenants file lets devices of `type` use a generated shared secret (off unless it says so). */
export function sharedSecretAllowed(tenant: TenantConfig | undefined, type: string): boolean {
  return tenant?.deviceTypes.some((entry) => entry.type === type && entry.sharedSecret) ?? false;
}
