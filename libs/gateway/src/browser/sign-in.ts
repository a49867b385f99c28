import { accountPaths } from '../pages/account.js';
import { formatClaimCode, normalizeClaimCode } from '../pages/claim.js';
import { normalizeUserCode } from '../pages/device.js';

/**
 * Where a sign-in that is not part of an authorization request goes afterwards (ADR 0015): the device
 * confirmation of one user code, the account's one-time-code or apps page, or the device claim page
 * (with the code typed or scanned). It travels as the login form's `interaction_id` field, bound to the browser
 * and to itself by the form's CSRF token, and it only ever names a path of this gateway, so it cannot
 * become an open redirect.
 */
export type Continuation = { kind: 'device'; userCode: string } | { kind: 'account-otp' } | { kind: 'account-consents' } | { kind: 'claim'; code?: string };

/** A canonical user code: 8 letters (the token service's alphabet is a subset). */
const CANONICAL_USER_CODE = /^[A-Z]{8}$/;

export function deviceContinuation(userCode: string): Continuation | undefined {
  const canonical = normalizeUserCode(userCode);
  return CANONICAL_USER_CODE.test(canonical) ? { kind: 'device', userCode: canonical } : undefined;
}

/** A claim code as letters and digits only (the registry's own alphabet is a subset). */
const CANONICAL_CLAIM_CODE = /^[0-9A-Z]{4,32}$/;

/** The claim page, with the typed code when it looks like one (anything else is not carried along). */
export function claimContinuation(code: string | undefined): Continuation {
  const canonical = code === undefined ? '' : normalizeClaimCode(code);
  return CANONICAL_CLAIM_CODE.test(canonical) ? { kind: 'claim', code: canonical } : { kind: 'claim' };
}

/** The form value of a continuation. */
export function continuationKey(continuation: Continuation): string {
  switch (continuation.kind) {
    case 'device':
      return `device:${continuation.userCode}`;
    case 'claim':
      return continuation.code ? `claim:${continuation.code}` : 'claim';
    default:
      return continuation.kind;
  }
}

/** The continuation a posted key names, or undefined for anything else. */
export function parseContinuation(key: string | undefined): Continuation | undefined {
  if (key === 'account-otp') return { kind: 'account-otp' };
  if (key === 'account-consents') return { kind: 'account-consents' };
  if (key === 'claim') return { kind: 'claim' };
  const claim = key ? /^claim:([0-9A-Z]{4,32})$/.exec(key) : null;
  if (claim) return { kind: 'claim', code: claim[1] as string };
  const match = key ? /^device:([A-Z]{8})$/.exec(key) : null;
  return match ? { kind: 'device', userCode: match[1] as string } : undefined;
}

/** The CSRF form id of the stand-alone login form (and the key of its pending-OTP cookie). */
export function signInFormId(continuation: Continuation): string {
  return `signin:${continuationKey(continuation)}`;
}

/** The path of this gateway the browser goes to once signed in. */
export function continuationPath(tenant: string, continuation: Continuation): string {
  if (continuation.kind === 'account-otp') return accountPaths(tenant).otp;
  if (continuation.kind === 'account-consents') return accountPaths(tenant).consents;
  if (continuation.kind === 'claim') return continuation.code ? `/t/${tenant}/claim?${new URLSearchParams({ code: formatClaimCode(continuation.code) })}` : `/t/${tenant}/claim`;
  const code = continuation.userCode;
  return `/t/${tenant}/device/confirm?${new URLSearchParams({ user_code: `${code.slice(0, 4)}-${code.slice(4)}` })}`;
}
