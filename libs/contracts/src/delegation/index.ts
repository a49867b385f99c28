export * from './grant.js';
export * from './grants.js';
export * from './events.js';
