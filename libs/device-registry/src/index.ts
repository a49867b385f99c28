export * from './device-registry.module.js';
export * from './device-registry.options.js';
