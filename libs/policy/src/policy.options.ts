import type { TenantsFile } from '@latchkey/config';
import type { MessagingOptions } from '@latchkey/messaging';
import type { DatabaseConfig } from '@latchkey/persistence';
import type { Clock } from './clock.js';
import type { DecisionLogOptions } from './decisions/decision-log.js';

export interface PolicyServiceOptions {
  tenants: TenantsFile;
  database: DatabaseConfig;
  messaging: MessagingOptions;
  /** The default bundle (an `opa build -t wasm` tar.gz); the built-in one (policies/) when absent. */
  defaultBundle?: Uint8Array;
  /**
   * How often each replica compares the stored policy versions with its own (default 5000 ms): the
   * safety net under the activation events, which reach every live replica at once.
   */
  reloadIntervalMs?: number;
  /** The decision log's batching and bounds (DecisionLog defaults). */
  decisionLog?: DecisionLogOptions;
  /** ms since the epoch; tests inject their own. */
  clock?: Clock;
}
