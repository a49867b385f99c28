import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';

export interface DeviceRegistryOptions {
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
}
