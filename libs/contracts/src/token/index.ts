export * from './client-authentication.js';
export * from './issue-token.js';
export * from './introspect-token.js';
export * from './revoke-token.js';
export * from './get-jwks.js';
export * from './rotate-signing-key.js';
