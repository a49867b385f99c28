import { describe, expect, it } from '@jest/globals';
import { normaliseX509Thumbprint } from './credential-input.js';

describe('X.509 thumbprints', () => {
  const digest = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 251) % 256));
  const canonical = digest.toString('base64url');

  it.each([
    ['base64url', canonical],
    ['base64 with padding', digest.toString('base64')],
    ['lower-case hex', digest.toString('hex')],
    ['upper-case hex with colons', [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')],
    ['hex with spaces', digest.toString('hex').replace(/(..)/g, '$1 ').trim()],
  ])('case=should read %s as the same SHA-256', (_name, given) => {
    expect(normaliseX509Thumbprint(given)).toBe(canonical);
  });

  it.each([
    ['31 bytes of hex', 'ab'.repeat(31)],
    ['33 bytes of hex', 'ab'.repeat(33)],
    ['a SHA-1 thumbprint', 'ab'.repeat(20)],
    ['base64url of 33 bytes', Buffer.alloc(33).toString('base64url')],
    ['not hex', 'zz'.repeat(32)],
  ])('case=should refuse %s', (_name, given) => {
    expect(normaliseX509Thumbprint(given)).toBeNull();
  });
});
