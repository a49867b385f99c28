export * from './device.js';
export * from './registry.js';
export * from './provisioning.js';
export * from './authentication.js';
export * from './events.js';
