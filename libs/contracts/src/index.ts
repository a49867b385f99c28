export * from './contract.js';
export * from './errors.js';
export * from './common.js';
export * from './health.js';
export * from './token/index.js';
export * from './identity/index.js';
export * from './device/index.js';
export * from './delegation/index.js';
