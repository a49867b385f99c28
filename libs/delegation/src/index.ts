export * from './delegation.module.js';
export * from './delegation.options.js';
export type { Clock } from './clock.js';
export { DEVICE_EVENTS_DURABLE } from './grants/device-events.js';
