export * from './device-registry.module.js';
export * from './device-registry.options.js';
export { DEFAULT_CLAIM_THROTTLING, type ClaimThrottling, type ClaimThrottleLimit } from './claims/claim-throttle.js';
export { DEFAULT_CLAIM_CODE_TTL_SECONDS } from './claims/claim-codes.js';
export type { DeviceAssertionOptions } from './authentication/device-authentication.js';
export type { Clock } from './clock.js';
