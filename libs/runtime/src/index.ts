export * from './service-context.js';
export * from './trace-logger.js';
