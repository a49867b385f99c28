export * from './gateway.module.js';
export * from './gateway.options.js';
export * from './http-app.js';
