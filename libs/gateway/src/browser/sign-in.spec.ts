import { describe, expect, it } from '@jest/globals';
import { continuationKey, continuationPath, deviceContinuation, parseContinuation, signInFormId } from './sign-in.js';

describe('stand-alone sign-in continuations', () => {
  it('round-trips a device continuation from a typed code', () => {
    const continuation = deviceContinuation(' wdjb-mjht ')!;
    expect(continuation).toEqual({ kind: 'device', userCode: 'WDJBMJHT' });
    expect(parseContinuation(continuationKey(continuation))).toEqual(continuation);
    expect(signInFormId(continuation)).toBe('signin:device:WDJBMJHT');
    expect(continuationPath('demo', continuation)).toBe('/t/demo/device/confirm?user_code=WDJB-MJHT');
  });

  it('knows the account page', () => {
    expect(parseContinuation('account-otp')).toEqual({ kind: 'account-otp' });
    expect(continuationPath('demo', { kind: 'account-otp' })).toBe('/t/demo/account/otp');
  });

  it('refuses anything else: never a path or URL of its own choosing', () => {
    for (const key of [undefined, '', 'device:', 'device:WDJB', 'device:wdjbmjht', 'device:WDJBMJHT/../x', '//evil.example', 'https://evil.example', 'account']) {
      expect(parseContinuation(key)).toBeUndefined();
    }
    expect(deviceContinuation('WDJB-MJH')).toBeUndefined();
    expect(deviceContinuation('<script>')).toBeUndefined();
  });
});
