import type { TenantsFile } from '@latchkey/config';
import type { KeyEncryption } from '@latchkey/crypto';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { Clock } from './clock.js';
import type { LoginThrottling } from './login/login-throttle.js';
import type { SessionPolicy } from './sessions/sessions.js';
import type { PasswordHashingParameters } from './users/password-hasher.js';

export interface IdentityServiceOptions {
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  passwordHashing?: Partial<PasswordHashingParameters>;
  /**
   * Encrypts TOTP secrets at rest (LATCHKEY_KEK). Without it, enrolment answers `unavailable` and no
   * code verifies.
   */
  keyEncryption?: KeyEncryption;
  /** Per-kind overrides of DEFAULT_LOGIN_THROTTLING. */
  throttling?: { [K in keyof LoginThrottling]?: Partial<LoginThrottling[K]> };
  sessions?: Partial<SessionPolicy>;
  /** ms since the epoch; tests inject their own. */
  clock?: Clock;
}
