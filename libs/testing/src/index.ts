export * from './test-infrastructure.js';
export * from './service-cluster.js';
