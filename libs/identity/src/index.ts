export * from './identity.module.js';
export * from './identity.options.js';
export * from './users/password-hasher.js';
export * from './identity.prisma.js';
