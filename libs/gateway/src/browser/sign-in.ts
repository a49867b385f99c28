import { normalizeUserCode } from '../pages/device.js';

/**
 * Where a sign-in that is not part of an authorization request goes afterwards (ADR 0015): the device
 * confirmation of one user code, or the account's one-time-code page. It travels as the login form's
 * `interaction_id` field, bound to the browser and to itself by the form's CSRF token, and it only ever
 * names a path of this gateway, so it cannot become an open redirect.
 */
export type Continuation = { kind: 'device'; userCode: string } | { kind: 'account-otp' };

/** A canonical user code: 8 letters (the token service's alphabet is a subset). */
const CANONICAL_USER_CODE = /^[A-Z]{8}$/;

export function deviceContinuation(userCode: string): Continuation | undefined {
  const canonical = normalizeUserCode(userCode);
  return CANONICAL_USER_CODE.test(canonical) ? { kind: 'device', userCode: canonical } : undefined;
}

/** The form value of a continuation. */
export function continuationKey(continuation: Continuation): string {
  return continuation.kind === 'device' ? `device:${continuation.userCode}` : 'account-otp';
}

/** The continuation a posted key names, or undefined for anything else. */
export function parseContinuation(key: string | undefined): Continuation | undefined {
  if (key === 'account-otp') return { kind: 'account-otp' };
  const match = key ? /^device:([A-Z]{8})$/.exec(key) : null;
  return match ? { kind: 'device', userCode: match[1] as string } : undefined;
}

/** The CSRF form id of the stand-alone login form (and the key of its pending-OTP cookie). */
export function signInFormId(continuation: Continuation): string {
  return `signin:${continuationKey(continuation)}`;
}

/** The path of this gateway the browser goes to once signed in. */
export function continuationPath(tenant: string, continuation: Continuation): string {
  if (continuation.kind === 'account-otp') return `/t/${tenant}/account/otp`;
  const code = continuation.userCode;
  return `/t/${tenant}/device/confirm?${new URLSearchParams({ user_code: `${code.slice(0, 4)}-${code.slice(4)}` })}`;
}
