export * from './hashing.js';
export * from './key-encryption.js';
export * from './compact-jwt.js';
export * from './assertion-claims.js';
export * from './assertion-signature.js';
