import { describe, expect, it } from '@jest/globals';
import { base32Decode, base32Encode, hotp, matchingStep, otpauthUri, timeStep, totp } from './totp.js';

// RFC 6238 Appendix B, the SHA-1 rows: seed "12345678901234567890" (ASCII), 8 digits.
const SEED = Buffer.from('12345678901234567890', 'ascii');
const VECTORS: [seconds: number, step: number, code: string][] = [
  [59, 0x1, '94287082'],
  [1111111109, 0x23523ec, '07081804'],
  [1111111111, 0x23523ed, '14050471'],
  [1234567890, 0x273ef07, '89005924'],
  [2000000000, 0x3f940aa, '69279037'],
  [20000000000, 0x27bc86aa, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('matches Appendix B at T=%i', (seconds, step, code) => {
    expect(timeStep(seconds * 1000)).toBe(step);
    expect(totp(SEED, seconds * 1000, 8)).toBe(code);
    // The 6-digit code apps show is the same value modulo 10^6.
    expect(totp(SEED, seconds * 1000)).toBe(code.slice(-6));
  });

  it('matches the RFC 4226 Appendix D HOTP values', () => {
    expect([0, 1, 2, 9].map((counter) => hotp(SEED, counter))).toEqual(['755224', '287082', '359152', '520489']);
  });

  it('accepts the previous, current and next step and nothing further', () => {
    const now = 1_700_000_000_000;
    const step = timeStep(now);
    for (const delta of [-1, 0, 1]) expect(matchingStep(SEED, hotp(SEED, step + delta), now)).toBe(step + delta);
    for (const delta of [-3, -2, 2, 3]) expect(matchingStep(SEED, hotp(SEED, step + delta), now)).toBeNull();
  });

  it('case=should refuse malformed codes', () => {
    const now = 1_700_000_000_000;
    const code = totp(SEED, now);
    for (const bad of ['', code.slice(1), `${code}0`, 'abcdef', ` ${code.slice(1)}`]) expect(matchingStep(SEED, bad, now)).toBeNull();
  });

  it('round-trips base32 (RFC 4648 test vectors, unpadded)', () => {
    const cases: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded).toString()).toBe(plain);
    }
    expect(base32Encode(SEED)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('builds a Key Uri Format URI', () => {
    const uri = new URL(otpauthUri('Demo fleet', 'adam@example.com', SEED));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Demo fleet:adam@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', issuer: 'Demo fleet', algorithm: 'SHA1', digits: '6', period: '30' });
  });
});
