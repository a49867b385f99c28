export * from './find-user.js';
