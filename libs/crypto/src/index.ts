export * from './hashing.js';
export * from './key-encryption.js';
export * from './compact-jwt.js';
