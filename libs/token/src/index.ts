export * from './token.module.js';
export * from './token.options.js';
export * from './token.prisma.js';
