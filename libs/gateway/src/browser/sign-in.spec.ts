import { describe, expect, it } from '@jest/globals';
import { claimContinuation, continuationKey, continuationPath, deviceContinuation, parseContinuation, signInFormId } from './sign-in.js';

describe('stand-alone sign-in continuations', () => {
  it('round-trips a device continuation from a typed code', () => {
    const continuation = deviceContinuation(' wdjb-mjht ')!;
    expect(continuation).toEqual({ kind: 'device', userCode: 'WDJBMJHT' });
    expect(parseContinuation(continuationKey(continuation))).toEqual(continuation);
    expect(signInFormId(continuation)).toBe('signin:device:WDJBMJHT');
    expect(continuationPath('demo', continuation)).toBe('/t/demo/device/confirm?user_code=WDJB-MJHT');
  });

  it('knows the account pages', () => {
    expect(parseContinuation('account-otp')).toEqual({ kind: 'account-otp' });
    expect(continuationPath('demo', { kind: 'account-otp' })).toBe('/t/demo/account/otp');
    expect(parseContinuation(continuationKey({ kind: 'account-consents' }))).toEqual({ kind: 'account-consents' });
    expect(signInFormId({ kind: 'account-consents' })).toBe('signin:account-consents');
    expect(continuationPath('demo', { kind: 'account-consents' })).toBe('/t/demo/account/consents');
  });

  it('round-trips the claim page, with a typed code or without one', () => {
    const continuation = claimContinuation(' 7k3m-q9xa 2bfd-ht6w ');
    expect(continuation).toEqual({ kind: 'claim', code: '7K3MQ9XA2BFDHT6W' });
    expect(parseContinuation(continuationKey(continuation))).toEqual(continuation);
    expect(signInFormId(continuation)).toBe('signin:claim:7K3MQ9XA2BFDHT6W');
    expect(continuationPath('demo', continuation)).toBe('/t/demo/claim?code=7K3M-Q9XA-2BFD-HT6W');
    expect(claimContinuation(undefined)).toEqual({ kind: 'claim' });
    expect(claimContinuation('<script>')).toEqual({ kind: 'claim' });
    expect(parseContinuation('claim')).toEqual({ kind: 'claim' });
    expect(continuationPath('demo', { kind: 'claim' })).toBe('/t/demo/claim');
  });

  it('refuses anything else: never a path or URL of its own choosing', () => {
    for (const key of [undefined, '', 'device:', 'device:WDJB', 'device:wdjbmjht', 'device:WDJBMJHT/../x', '//evil.example', 'https://evil.example', 'account', 'account-consents/../x', 'claim:', 'claim:abc', 'claim:ABCD/../x', 'claim:ABCD?next=//evil']) {
      expect(parseContinuation(key)).toBeUndefined();
    }
    expect(deviceContinuation('WDJB-MJH')).toBeUndefined();
    expect(deviceContinuation('<script>')).toBeUndefined();
  });
});
