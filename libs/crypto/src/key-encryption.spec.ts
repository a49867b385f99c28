import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { secretMatchesHash, sha256Hex } from './hashing.js';
import { KeyEncryption } from './key-encryption.js';

describe('KeyEncryption', () => {
  const kek = new KeyEncryption(randomBytes(32));

  it('round-trips a private key bound to its associated data', () => {
    const sealed = kek.encrypt(Buffer.from('private key'), 'tenant:a:kid:1');
    expect(sealed.includes(Buffer.from('private key'))).toBe(false);
    expect(kek.decrypt(sealed, 'tenant:a:kid:1').toString()).toBe('private key');
  });

  it('case=should fail to decrypt with other associated data, another KEK or a flipped bit', () => {
    const sealed = kek.encrypt(Buffer.from('private key'), 'tenant:a:kid:1');
    expect(() => kek.decrypt(sealed, 'tenant:b:kid:1')).toThrow();
    expect(() => new KeyEncryption(randomBytes(32)).decrypt(sealed, 'tenant:a:kid:1')).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => kek.decrypt(flipped, 'tenant:a:kid:1')).toThrow();
  });

  it('case=should refuse a key-encryption key that is not 32 bytes', () => {
    expect(() => new KeyEncryption(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('secretMatchesHash', () => {
  it('matches only the exact secret', () => {
    const stored = sha256Hex('s3cret');
    expect(secretMatchesHash('s3cret', stored)).toBe(true);
    expect(secretMatchesHash('s3cret ', stored)).toBe(false);
    expect(secretMatchesHash('', stored)).toBe(false);
    expect(secretMatchesHash('s3cret', 'not-hex')).toBe(false);
  });
});
