import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { PasswordHashingParameters } from './users/password-hasher.js';

export interface IdentityServiceOptions {
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  passwordHashing?: Partial<PasswordHashingParameters>;
}
