import { randomBytes } from 'node:crypto';
import { sha256Hex } from '@latchkey/crypto';

/** Crockford's base32: digits and capitals without I, L, O and U (no look-alikes, no accidental words). */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 16 characters of 5 bits: 80 random bits. */
export const CLAIM_CODE_LENGTH = 16;

const CANONICAL = /^[0-9A-HJKMNP-TV-Z]{16}$/;

/** A fresh claim code in canonical form (16 characters, no dashes): 10 random bytes, 5 bits per character. */
export function generateClaimCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let code = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      code += CROCKFORD_ALPHABET[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return code;
}

/** `0123456789ABCDEF` → `0123-4567-89AB-CDEF`: how it is printed, shown and put in the QR payload. */
export function formatClaimCode(canonical: string): string {
  return canonical.match(/.{4}/g)!.join('-');
}

/**
 * What a person typed or a scanner read, case-insensitive, with dashes and white space ignored and
 * Crockford's look-alikes read as the digits they resemble (O → 0, I and L → 1); null when it cannot
 * be a claim code at all.
 */
export function normaliseClaimCode(typed: string): string | null {
  const canonical = typed
    .replace(/[\s\-\u2010-\u2015\u2212]/g, '')
    .toUpperCase()
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return CANONICAL.test(canonical) ? canonical : null;
}

/** What is stored of a code: its SHA-256. 80 random bits make a dictionary of hashes pointless. */
export function claimCodeHash(canonical: string): string {
  return sha256Hex(canonical);
}
