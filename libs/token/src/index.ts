export * from './token.module.js';
export * from './token.options.js';
