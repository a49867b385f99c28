import { describe, expect, it } from '@jest/globals';
import { formatUserCode, generateUserCode, normaliseUserCode, USER_CODE_ALPHABET } from './user-codes.js';

describe('user codes (RFC 8628 §6.1)', () => {
  it('uses 20 consonants without vowels, digits or look-alikes', () => {
    expect(USER_CODE_ALPHABET).toHaveLength(20);
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY0-9]/);
    expect(new Set(USER_CODE_ALPHABET).size).toBe(20);
  });

  it('generates 8 characters of the alphabet, shown as XXXX-XXXX', () => {
    for (let i = 0; i < 200; i++) {
      const code = generateUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      expect(formatUserCode(code)).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    }
  });

  it('uses every character of the alphabet (no bias to a subset)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const character of generateUserCode()) seen.add(character);
    expect(seen.size).toBe(20);
  });

  it('normalises case, dashes and white space', () => {
    expect(normaliseUserCode('BCDF-GHJK')).toBe('BCDFGHJK');
    expect(normaliseUserCode('bcdf-ghjk')).toBe('BCDFGHJK');
    expect(normaliseUserCode(' bcdf ghjk ')).toBe('BCDFGHJK');
    expect(normaliseUserCode('BC-DF-GH-JK')).toBe('BCDFGHJK');
    expect(normaliseUserCode('bcdfghjk')).toBe('BCDFGHJK');
    expect(normaliseUserCode('BCDF\u2013GHJK')).toBe('BCDFGHJK');
  });

  it('case=should refuse what cannot be a user code', () => {
    expect(normaliseUserCode('')).toBeNull();
    expect(normaliseUserCode('BCDF-GHJ')).toBeNull();
    expect(normaliseUserCode('BCDF-GHJKL')).toBeNull();
    expect(normaliseUserCode('ABCD-EFGH')).toBeNull();
    expect(normaliseUserCode('BCDF-GHJ0')).toBeNull();
    expect(normaliseUserCode("BCDF'GHJK")).toBeNull();
  });
});
