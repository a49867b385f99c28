export * from './env.js';
export * from './tenants.js';
