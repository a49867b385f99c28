export * from './delegation.module.js';
