import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import { grantScopes, parseScope } from './scopes.js';

describe('scopes (RFC 6749 §3.3)', () => {
  it('parses a space-delimited list, dropping duplicates', () => {
    expect(parseScope('a b  a')).toEqual(['a', 'b']);
    expect(parseScope(undefined)).toEqual([]);
  });

  it('grants what was asked when all of it is allowed, else everything allowed by default', () => {
    expect(grantScopes(['a'], ['a', 'b'])).toEqual(['a']);
    expect(grantScopes([], ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('case=should refuse a scope the client may not have', () => {
    expect(() => grantScopes(['a', 'admin'], ['a'])).toThrow(ContractError);
    try {
      grantScopes(['admin'], ['a']);
    } catch (error) {
      expect((error as ContractError).code).toBe('invalid_scope');
    }
  });

  it('case=should refuse malformed scope tokens', () => {
    expect(() => parseScope('a "b"')).toThrow(/malformed/);
    expect(() => parseScope('a\\b')).toThrow(/malformed/);
  });
});
