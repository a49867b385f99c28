import { describe, expect, it } from '@jest/globals';
import { HttpFailure } from '../http/http-errors.js';
import { extractClientAuthentication } from './client-auth.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function failure(fn: () => unknown): HttpFailure {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpFailure) return error;
    throw error;
  }
  throw new Error('expected an HttpFailure');
}

describe('extractClientAuthentication', () => {
  it('reads client_secret_basic and form-decodes id and secret (RFC 6749 §2.3.1)', () => {
    const { client, rest } = extractClientAuthentication(basic('my client', 'p@ss:word'), { grant_type: 'client_credentials' });
    expect(client).toEqual({ method: 'client_secret_basic', clientId: 'my client', clientSecret: 'p@ss:word' });
    expect(rest).toEqual({ grant_type: 'client_credentials' });
  });

  it('reads client_secret_post and strips the credentials from the other parameters', () => {
    const { client, rest } = extractClientAuthentication(undefined, { client_id: 'a', client_secret: 's', scope: 'x' });
    expect(client).toEqual({ method: 'client_secret_post', clientId: 'a', clientSecret: 's' });
    expect(rest).toEqual({ scope: 'x' });
  });

  it('treats a bare client_id as a public client', () => {
    expect(extractClientAuthentication(undefined, { client_id: 'app' }).client).toEqual({ method: 'none', clientId: 'app' });
  });

  it('case=should fail because two methods are used at once', () => {
    const error = failure(() => extractClientAuthentication(basic('a', 's'), { client_id: 'a', client_secret: 's' }));
    expect([error.status, error.code]).toEqual([400, 'invalid_request']);
  });

  it('case=should fail because no client authentication is given', () => {
    const error = failure(() => extractClientAuthentication(undefined, { grant_type: 'client_credentials' }));
    expect([error.status, error.code]).toEqual([401, 'invalid_client']);
  });

  it('case=should fail because the Authorization header is malformed', () => {
    for (const header of ['Basic !!!', 'Bearer abc', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from(':secret').toString('base64')}`]) {
      expect(failure(() => extractClientAuthentication(header, {})).code).toBe('invalid_client');
    }
  });

  it('case=should fail because client_id in the body differs from the Basic header', () => {
    expect(failure(() => extractClientAuthentication(basic('a', 's'), { client_id: 'b' })).code).toBe('invalid_request');
  });

  it('recognises a JWT client assertion (RFC 7523 §2.2)', () => {
    const { client } = extractClientAuthentication(undefined, {
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'a.b.c',
    });
    expect(client).toEqual({ method: 'private_key_jwt', assertion: 'a.b.c' });
  });
});
