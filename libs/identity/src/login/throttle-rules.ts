/** What a throttle key counts: a username, a user's one-time codes, or a client address. */
export type ThrottleKind = 'account' | 'otp' | 'ip';

export interface ThrottleKey {
  kind: ThrottleKind;
  key: string;
}

export interface ThrottlePolicy {
  /** Failed attempts allowed within the window; the next failure at the limit locks the key. */
  maxFailures: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

/** One key's counter. Times in ms since the epoch. */
export interface ThrottleState {
  failures: number;
  windowStartedAt: number;
  lockedUntil: number | null;
}

export function isLocked(state: ThrottleState | null, now: number): boolean {
  return state !== null && state.lockedUntil !== null && state.lockedUntil > now;
}

function fresh(now: number): ThrottleState {
  return { failures: 0, windowStartedAt: now, lockedUntil: null };
}

function lock(policy: ThrottlePolicy, now: number): ThrottleState {
  return { failures: 0, windowStartedAt: now, lockedUntil: now + policy.lockoutSeconds * 1000 };
}

/** The counter as it stands now: an expired window or lockout starts afresh. */
function current(state: ThrottleState | null, policy: ThrottlePolicy, now: number): ThrottleState {
  if (state === null) return fresh(now);
  if (isLocked(state, now)) return state;
  if (state.lockedUntil !== null || now - state.windowStartedAt >= policy.windowSeconds * 1000) return fresh(now);
  return state;
}

/**
 * Before a credential is checked, the attempt is counted as if it failed (so that parallel attempts
 * cannot all pass a check that none of them has yet updated). Refused while the key is locked, and
 * while the attempts in flight already reach the limit — refused, not locked: those attempts may all
 * be correct (several devices signing in at once); only failures that settle lock the key.
 */
export function reserve(state: ThrottleState | null, policy: ThrottlePolicy, now: number): { allowed: boolean; state: ThrottleState } {
  const s = current(state, policy, now);
  if (isLocked(s, now)) return { allowed: false, state: s };
  if (s.failures >= policy.maxFailures) return { allowed: false, state: s };
  return { allowed: true, state: { ...s, failures: s.failures + 1 } };
}

/** The reserved attempt failed: it stays counted, and reaching the limit locks the key. */
export function settleFailure(state: ThrottleState | null, policy: ThrottlePolicy, now: number): ThrottleState {
  const s = current(state, policy, now);
  if (isLocked(s, now)) return s;
  return s.failures >= policy.maxFailures ? lock(policy, now) : s;
}

/**
 * The reserved attempt succeeded. An account's (or a user's codes') counter starts afresh; an address
 * only gets the reserved attempt back, so that a valid sign-in to one's own account does not reset
 * the counter of an address that guesses at other accounts.
 */
export function settleSuccess(kind: ThrottleKind, state: ThrottleState | null, policy: ThrottlePolicy, now: number): ThrottleState | null {
  if (kind !== 'ip') return null;
  const s = current(state, policy, now);
  if (isLocked(s, now)) return s;
  return { ...s, failures: Math.max(0, s.failures - 1) };
}
