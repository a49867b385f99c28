import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import type { OAuthClient } from '../clients/oauth-client.js';
import { AUTHORIZATION_REQUEST_CHECKS, type AuthorizationRequestContext, checkPkce, checkPrompt, checkRedirectUri, runChecks } from './authorization-request.js';
import { authorizationResponseLocation } from './authorization-response.js';
import { checkAuthenticationFreshness } from './authorization-endpoint.js';
import { s256Challenge, verifierMatches } from './pkce.js';

const client = (overrides: Partial<OAuthClient> = {}): OAuthClient => ({
  tenant: 'demo',
  clientId: 'app',
  displayName: null,
  secretHash: null,
  authMethods: ['none'],
  grantTypes: ['authorization_code'],
  scopes: ['openid', 'profile', 'offline_access'],
  redirectUris: ['https://app.example.com/callback'],
  accessTokenTtlSeconds: null,
  idTokenSignedResponseAlg: 'ES256',
  refreshTokenAbsoluteLifetimeSeconds: null,
  refreshTokenIdleLifetimeSeconds: null,
  jwks: null,
  ...overrides,
});
const context = (parameters: Record<string, string>, registered = client()): AuthorizationRequestContext => ({ parameters, client: registered, request: { clientId: registered.clientId } });
const failure = (run: () => void): { code: string; message: string } | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    return { code: error.code, message: error.message };
  }
};

// RFC 7636 Appendix B.
const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636)', () => {
  it('computes the S256 challenge of the Appendix B example', () => {
    expect(s256Challenge(RFC7636_VERIFIER)).toBe(RFC7636_CHALLENGE);
    expect(verifierMatches(RFC7636_VERIFIER, RFC7636_CHALLENGE)).toBe(true);
  });

  it.each([
    ['another verifier', 'eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'],
    ['the challenge itself (plain)', RFC7636_CHALLENGE],
    ['a verifier shorter than 43 characters', 'short'],
    ['a verifier with characters outside the unreserved set', `${RFC7636_VERIFIER}+/`],
  ])('case=should not match %s', (_case, verifier) => {
    expect(verifierMatches(verifier, RFC7636_CHALLENGE)).toBe(false);
  });

  it.each([
    ['no code_challenge', { code_challenge_method: 'S256' }, 'code_challenge is required (PKCE, S256)'],
    ['no method', { code_challenge: RFC7636_CHALLENGE }, 'code_challenge_method must be S256'],
    ['method plain', { code_challenge: RFC7636_CHALLENGE, code_challenge_method: 'plain' }, 'code_challenge_method must be S256'],
    ['a 42-character challenge', { code_challenge: RFC7636_CHALLENGE.slice(1), code_challenge_method: 'S256' }, 'code_challenge must be 43-128 base64url characters'],
    ['a challenge with padding', { code_challenge: `${RFC7636_CHALLENGE}=`, code_challenge_method: 'S256' }, 'code_challenge must be 43-128 base64url characters'],
  ])('case=should refuse %s with invalid_request', (_case, parameters, message) => {
    expect(failure(() => checkPkce(context(parameters)))).toEqual({ code: 'invalid_request', message });
  });

  it('accepts an S256 challenge', () => {
    const ctx = context({ code_challenge: RFC7636_CHALLENGE, code_challenge_method: 'S256' });
    checkPkce(ctx);
    expect(ctx.request.codeChallenge).toBe(RFC7636_CHALLENGE);
  });
});

describe('redirect URI matching (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3: exact string)', () => {
  it('accepts the registered URI exactly', () => {
    const ctx = context({ redirect_uri: 'https://app.example.com/callback' });
    checkRedirectUri(ctx);
    expect(ctx.request).toMatchObject({ redirectUri: 'https://app.example.com/callback', redirectUriSent: true });
  });

  it.each([
    ['a prefix', 'https://app.example.com/call'],
    ['an extra path segment', 'https://app.example.com/callback/evil'],
    ['an extra query', 'https://app.example.com/callback?x=1'],
    ['another port', 'https://app.example.com:8443/callback'],
    ['a fragment', 'https://app.example.com/callback#frag'],
    ['another case', 'https://APP.example.com/Callback'],
    ['another scheme', 'http://app.example.com/callback'],
    ['a trailing slash', 'https://app.example.com/callback/'],
    ['another host with the registered one as prefix', 'https://app.example.com.evil.test/callback'],
  ])('case=should refuse %s without redirecting', (_case, uri) => {
    expect(failure(() => checkRedirectUri(context({ redirect_uri: uri })))).toEqual({ code: 'invalid_request', message: 'redirect_uri is not registered for this client' });
  });

  it('uses the only registered URI when none is sent, and refuses to guess among several', () => {
    const ctx = context({});
    checkRedirectUri(ctx);
    expect(ctx.request).toMatchObject({ redirectUri: 'https://app.example.com/callback', redirectUriSent: false });
    const several = client({ redirectUris: ['https://a.test/cb', 'https://b.test/cb'] });
    expect(failure(() => checkRedirectUri(context({}, several)))).toEqual({ code: 'invalid_request', message: 'redirect_uri is required for this client' });
  });

  it('keeps the query of a registered URI when appending response parameters', () => {
    expect(authorizationResponseLocation('https://a.test/cb?tenant=x', { code: 'c d', state: undefined, iss: 'https://i.test/t/demo' })).toBe(
      'https://a.test/cb?tenant=x&code=c+d&iss=https%3A%2F%2Fi.test%2Ft%2Fdemo',
    );
  });
});

describe('authorization request checks', () => {
  const valid = { response_type: 'code', client_id: 'app', scope: 'openid profile', code_challenge: RFC7636_CHALLENGE, code_challenge_method: 'S256', state: 's1', nonce: 'n1' };
  const run = (parameters: Record<string, string>, registered = client()) => {
    const ctx = context(parameters, registered);
    runChecks(AUTHORIZATION_REQUEST_CHECKS, ctx);
    return ctx.request;
  };

  it('validates a complete OIDC request and ignores unknown parameters', () => {
    expect(run({ ...valid, max_age: '300', acr_values: 'urn:a urn:b', login_hint: 'adam', prompt: 'login consent', foo: 'bar' })).toEqual({
      clientId: 'app',
      state: 's1',
      codeChallenge: RFC7636_CHALLENGE,
      scopes: ['openid', 'profile'],
      nonce: 'n1',
      prompt: ['login', 'consent'],
      maxAge: 300,
      acrValues: ['urn:a', 'urn:b'],
      loginHint: 'adam',
    });
  });

  it('drops the nonce of a plain OAuth request (no openid scope)', () => {
    expect(run({ ...valid, scope: 'profile' }).nonce).toBeUndefined();
  });

  it.each([
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no response_type', { response_type: undefined }, 'invalid_request'],
    ['a scope the client may not have', { scope: 'openid admin' }, 'invalid_scope'],
    ['no scope', { scope: undefined }, 'invalid_scope'],
    ['prompt=none with login', { prompt: 'none login' }, 'invalid_request'],
    ['an unknown prompt', { prompt: 'always' }, 'invalid_request'],
    ['a negative max_age', { max_age: '-1' }, 'invalid_request'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request'],
  ])('case=should refuse %s', (_case, overrides, code) => {
    const parameters = Object.fromEntries(Object.entries({ ...valid, ...overrides }).filter(([, value]) => value !== undefined)) as Record<string, string>;
    expect(failure(() => run(parameters))?.code).toBe(code);
  });

  it.each([
    ['a request object', { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.' }, 'request_not_supported', 'request objects (the request parameter) are not supported'],
    ['a request_uri', { request_uri: 'https://app.example.com/request.jwt' }, 'request_uri_not_supported', 'the request_uri parameter is not supported'],
    // OIDC Core §6.1: the object may carry what the query lacks, so its refusal comes before "response_type is required".
    ['a request object and nothing else', { response_type: undefined, scope: undefined, request: 'x.y.z' }, 'request_not_supported', 'request objects (the request parameter) are not supported'],
  ])('case=should refuse %s (OIDC Core §6, request objects are not supported)', (_case, overrides, code, message) => {
    const parameters = Object.fromEntries(Object.entries({ ...valid, ...overrides }).filter(([, value]) => value !== undefined)) as Record<string, string>;
    const ctx = context(parameters);
    expect(failure(() => runChecks(AUTHORIZATION_REQUEST_CHECKS, ctx))).toEqual({ code, message });
    // state is already captured, so the error at the redirect URI carries it.
    expect(ctx.request.state).toBe('s1');
  });

  it('accepts prompt=select_account', () => {
    expect(run({ ...valid, prompt: 'select_account' }).prompt).toEqual(['select_account']);
  });

  it('case=should refuse a client not registered for authorization_code with unauthorized_client', () => {
    expect(failure(() => run(valid, client({ grantTypes: ['client_credentials'] })))?.code).toBe('unauthorized_client');
  });

  it('accepts prompt=none alone', () => {
    const ctx = context({ prompt: 'none' });
    checkPrompt(ctx);
    expect(ctx.request.prompt).toEqual(['none']);
  });
});

describe('authentication freshness (OIDC Core §3.1.2.1)', () => {
  const now = 1_800_000_000_000;
  const subject = (authTime: number) => ({ userId: 'u', authTime, amr: ['pwd'], acr: '1', sessionId: 's' });
  const interaction = (request: { maxAge?: number; prompt?: ('login' | 'none' | 'select_account')[] }) => ({
    createdAt: new Date(now - 30_000),
    request: { clientId: 'app', redirectUri: 'x', redirectUriSent: true, scopes: [], codeChallenge: 'c', prompt: request.prompt ?? [], ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}) },
  });

  it('case=should refuse an authentication older than max_age', () => {
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 60 }), subject(now / 1000 - 61), now))?.code).toBe('invalid_request');
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 60 }), subject(now / 1000 - 59), now))).toBeUndefined();
  });

  it('accepts an authentication during the request however long ago, even with max_age=0 (no login → consent loop)', () => {
    // The request began 30 s ago; the person signed in 29 s ago and took their time on the consent page.
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 0 }), subject(now / 1000 - 29), now))).toBeUndefined();
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 10 }), subject(now / 1000 - 29), now))).toBeUndefined();
    // Signed in within the very second the request began (auth_time has whole seconds).
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 0, prompt: ['login'] }), subject(now / 1000 - 30), now))).toBeUndefined();
  });

  it('case=should refuse max_age=0 with an authentication from before the request', () => {
    expect(failure(() => checkAuthenticationFreshness(interaction({ maxAge: 0 }), subject(now / 1000 - 31), now))).toEqual({ code: 'invalid_request', message: 'authentication is older than max_age: re-authenticate' });
  });

  it('case=should refuse prompt=select_account with an authentication from before the request', () => {
    expect(failure(() => checkAuthenticationFreshness(interaction({ prompt: ['select_account'] }), subject(now / 1000 - 3600), now))?.code).toBe('invalid_request');
    expect(failure(() => checkAuthenticationFreshness(interaction({ prompt: ['select_account'] }), subject(now / 1000 - 10), now))).toBeUndefined();
  });

  it('case=should refuse prompt=login with an authentication from before the request', () => {
    expect(failure(() => checkAuthenticationFreshness(interaction({ prompt: ['login'] }), subject(now / 1000 - 3600), now))?.code).toBe('invalid_request');
    expect(failure(() => checkAuthenticationFreshness(interaction({ prompt: ['login'] }), subject(now / 1000 - 10), now))).toBeUndefined();
  });
});
