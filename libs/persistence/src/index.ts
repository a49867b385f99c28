export * from './database.js';
export * from './service-database.js';
export * from './migrations/index.js';
export * from './embedded-postgres.js';
export * from './pg-outbox-store.js';
