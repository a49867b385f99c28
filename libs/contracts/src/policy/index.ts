export * from './decision.js';
export * from './policy.js';
export * from './events.js';
