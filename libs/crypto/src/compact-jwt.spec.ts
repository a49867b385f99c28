import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt, jwkThumbprint, signJwt, verifyJwtSignature } from './compact-jwt.js';

const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('compact JWS', () => {
  it('signs ES256 tokens that jose-compatible verification accepts', async () => {
    const token = signJwt({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { sub: 'x' }, es256.privateKey);
    const jwt = decodeJwt(token)!;
    expect(jwt.header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    expect(verifyJwtSignature(jwt, es256.publicKey, 'ES256')).toBe(true);
    const { jwtVerify } = await import('jose');
    await expect(jwtVerify(token, es256.publicKey, { typ: 'at+jwt' })).resolves.toMatchObject({ payload: { sub: 'x' } });
  });

  it('case=should refuse a token signed by another key', () => {
    const token = signJwt({ alg: 'ES256' }, { sub: 'x' }, other.privateKey);
    expect(verifyJwtSignature(decodeJwt(token)!, es256.publicKey, 'ES256')).toBe(false);
  });

  it('case=should refuse alg none and HMAC algorithms outright', () => {
    expect(decodeJwt(`${segment({ alg: 'none' })}.${segment({ sub: 'x' })}.`)).toBeUndefined();
    expect(decodeJwt(`${segment({ alg: 'HS256' })}.${segment({ sub: 'x' })}.c2ln`)).toBeUndefined();
  });

  it('case=should refuse a token whose header algorithm differs from the key algorithm', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = signJwt({ alg: 'RS256' }, { sub: 'x' }, rsa.privateKey);
    expect(verifyJwtSignature(decodeJwt(token)!, rsa.publicKey, 'ES256')).toBe(false);
  });

  it('case=should refuse a tampered payload', () => {
    const [header, , signature] = signJwt({ alg: 'ES256' }, { sub: 'x' }, es256.privateKey).split('.');
    expect(verifyJwtSignature(decodeJwt(`${header}.${segment({ sub: 'admin' })}.${signature}`)!, es256.publicKey, 'ES256')).toBe(false);
  });

  it('case=should reject malformed compact serialisations', () => {
    for (const token of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${segment([1])}.${segment({})}.x`, `${segment({ alg: 'ES256' })}.bm90IGpzb24.x`]) {
      expect(decodeJwt(token)).toBeUndefined();
    }
  });

  it('computes RFC 7638 thumbprints (the RFC\'s own example)', () => {
    const jwk = {
      kty: 'RSA',
      e: 'AQAB',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
