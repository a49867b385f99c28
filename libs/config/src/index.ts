export * from './env.js';
export * from './tenants.js';
export * from './tenant-directory.js';
