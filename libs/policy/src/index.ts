export * from './policy.module.js';
