export * from './identity.module.js';
export * from './identity.options.js';
export * from './users/password-hasher.js';
export * from './identity.prisma.js';
export * from './clock.js';
export { DEFAULT_LOGIN_THROTTLING, type LoginThrottling } from './login/login-throttle.js';
export type { ThrottlePolicy } from './login/throttle-rules.js';
export { DEFAULT_SESSION_POLICY, type SessionPolicy } from './sessions/sessions.js';
