import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Compares a presented secret with a stored SHA-256 digest in constant time: both sides are hashed to
 * the same length first, so neither the content nor the length of the secret leaks through timing.
 */
export function secretMatchesHash(presented: string, storedHex: string): boolean {
  const presentedDigest = createHash('sha256').update(presented, 'utf8').digest();
  const stored = Buffer.from(storedHex, 'hex');
  if (stored.length !== presentedDigest.length) {
    timingSafeEqual(presentedDigest, presentedDigest);
    return false;
  }
  return timingSafeEqual(presentedDigest, stored);
}

/** An opaque, URL-safe random token (256 bits by default). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
