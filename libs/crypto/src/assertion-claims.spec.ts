import { describe, expect, it } from '@jest/globals';
import { type AssertionExpectations, checkAssertionClaims } from './assertion-claims.js';

const ISSUER = 'https://auth.example.test/t/demo';
const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
const now = 1_800_000_000;
const expected: AssertionExpectations = { clientId: 'sensor', audiences: [TOKEN_ENDPOINT, ISSUER], now };
const valid = { iss: 'sensor', sub: 'sensor', aud: TOKEN_ENDPOINT, exp: now + 60, iat: now, jti: 'jti-1' };
const reasonOf = (claims: Record<string, unknown>) => {
  const result = checkAssertionClaims(claims, expected);
  return result.ok ? null : result.reason;
};

describe('private_key_jwt assertion claims (RFC 7523 §3, OIDC Core §9)', () => {
  it('accepts iss = sub = client_id, the token endpoint or the issuer as audience, a near exp and a jti', () => {
    expect(checkAssertionClaims(valid, expected)).toEqual({ ok: true, claims: { jti: 'jti-1', exp: now + 60 } });
    expect(reasonOf({ ...valid, aud: ISSUER })).toBeNull();
    expect(reasonOf({ ...valid, aud: ['https://elsewhere.test', TOKEN_ENDPOINT] })).toBeNull();
    expect(reasonOf({ ...valid, iat: undefined, nbf: now - 5 })).toBeNull();
  });

  it('case=should fail because iss or sub is not the client', () => {
    expect(reasonOf({ ...valid, iss: 'other' })).toMatch(/iss/);
    expect(reasonOf({ ...valid, sub: 'other' })).toMatch(/sub/);
    expect(reasonOf({ ...valid, sub: undefined })).toMatch(/sub/);
  });

  it('case=should fail because the audience is another server or missing', () => {
    expect(reasonOf({ ...valid, aud: 'https://auth.example.test/t/other/oauth2/token' })).toMatch(/aud/);
    expect(reasonOf({ ...valid, aud: [] })).toMatch(/aud/);
    expect(reasonOf({ ...valid, aud: undefined })).toMatch(/aud/);
    expect(reasonOf({ ...valid, aud: [42] })).toMatch(/aud/);
  });

  it('case=should fail because exp is missing, past or too far ahead', () => {
    expect(reasonOf({ ...valid, exp: undefined })).toMatch(/exp is missing/);
    expect(reasonOf({ ...valid, exp: String(now + 60) })).toMatch(/exp is missing/);
    expect(reasonOf({ ...valid, exp: now - 31, iat: now - 100 })).toMatch(/expired/);
    expect(reasonOf({ ...valid, exp: now + 3600 })).toMatch(/future/);
    // Within the skew either way is fine.
    expect(reasonOf({ ...valid, exp: now - 10, iat: now - 60 })).toBeNull();
    expect(reasonOf({ ...valid, exp: now + 320 })).toBeNull();
  });

  it('case=should fail because iat or nbf is in the future, or exp is not after iat', () => {
    expect(reasonOf({ ...valid, iat: now + 120, exp: now + 200 })).toMatch(/iat/);
    expect(reasonOf({ ...valid, nbf: now + 120 })).toMatch(/nbf/);
    expect(reasonOf({ ...valid, iat: now + 10, exp: now + 10 })).toMatch(/exp is not after iat/);
    expect(reasonOf({ ...valid, iat: 'yesterday' })).toMatch(/iat/);
  });

  it('case=should fail because jti is missing', () => {
    expect(reasonOf({ ...valid, jti: undefined })).toMatch(/jti/);
    expect(reasonOf({ ...valid, jti: '' })).toMatch(/jti/);
    expect(reasonOf({ ...valid, jti: 7 })).toMatch(/jti/);
  });
});
