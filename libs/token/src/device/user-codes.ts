import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: user codes a person reads off a screen and types on a phone. 20 consonants without
 * vowels (no words) and without look-alikes (no 0/O, 1/I/L... digits at all): BCDFGHJKLMNPQRSTVWXZ,
 * 8 of them = 20^8 ≈ 2^34.6 codes, shown as `XXXX-XXXX`. Guessing is throttled per IP (§5.1).
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

const CANONICAL = new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`);

/** A fresh user code in canonical form (8 characters, no dash); uniform over the alphabet. */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`, the way it is displayed and put in `verification_uri_complete`. */
export function formatUserCode(canonical: string): string {
  return `${canonical.slice(0, 4)}-${canonical.slice(4)}`;
}

/**
 * RFC 8628 §6.1: what the user typed, case-insensitive, with dashes and white space ignored; null when
 * it cannot be a user code at all (so it never reaches the database).
 */
export function normaliseUserCode(typed: string): string | null {
  const canonical = typed.replace(/[\s\-\u2010-\u2015]/g, '').toUpperCase();
  return CANONICAL.test(canonical) ? canonical : null;
}
