import { describe, expect, it } from '@jest/globals';
import { CROCKFORD_ALPHABET, claimCodeHash, formatClaimCode, generateClaimCode, normaliseClaimCode } from './claim-code-format.js';

describe('claim codes', () => {
  it('are 16 Crockford base32 characters shown in groups of four', () => {
    const code = generateClaimCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{16}$/);
    expect(formatClaimCode(code)).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('use the whole alphabet in every position (80 bits, no fixed bits)', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...generateClaimCode()].forEach((char, position) => seen[position]!.add(char));
    for (const chars of seen) expect(chars.size).toBe(CROCKFORD_ALPHABET.length);
  });

  it('case=should read a typed code whatever its case, dashes and spaces', () => {
    expect(normaliseClaimCode('abcd-efgh-jkmn-pqrs')).toBe('ABCDEFGHJKMNPQRS');
    expect(normaliseClaimCode('  ABCD EFGH\tJKMN–PQRS ')).toBe('ABCDEFGHJKMNPQRS');
    expect(normaliseClaimCode('ABCDEFGHJKMNPQRS')).toBe('ABCDEFGHJKMNPQRS');
  });

  it('case=should read O as 0 and I or L as 1', () => {
    expect(normaliseClaimCode('0o0O-1iIl-L234-5678')).toBe('0000111112345678');
    expect(claimCodeHash(normaliseClaimCode('OIL0-0000-0000-0000')!)).toBe(claimCodeHash('0110000000000000'));
  });

  it('case=should refuse what cannot be a code', () => {
    for (const typed of ['', 'ABCD-EFGH-JKMN', 'ABCD-EFGH-JKMN-PQRS-T', 'ABCD-EFGH-JKMN-PQRU', 'ABCD-EFGH-JKMN-PQR!']) expect(normaliseClaimCode(typed)).toBeNull();
  });
});
