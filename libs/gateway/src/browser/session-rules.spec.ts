import { describe, expect, it } from '@jest/globals';
import { consentNeeded, reauthenticationReason } from './session-rules.js';

const KNOWN = ['urn:latchkey:loa:1', 'urn:latchkey:loa:2'];
const now = 1_800_000_000;
const session = { authTime: now - 100, acr: 'urn:latchkey:loa:1' as const };

describe('reauthenticationReason (OIDC Core §3.1.2.1)', () => {
  it('lets a live session answer a plain request', () => {
    expect(reauthenticationReason({ prompt: [] }, session, now, KNOWN)).toBeUndefined();
  });

  it('asks for a sign-in without a session, with prompt=login, past max_age', () => {
    expect(reauthenticationReason({ prompt: [] }, null, now, KNOWN)).toBe('no-session');
    expect(reauthenticationReason({ prompt: ['login'] }, session, now, KNOWN)).toBe('prompt-login');
    expect(reauthenticationReason({ prompt: ['select_account'] }, session, now, KNOWN)).toBe('select-account');
    expect(reauthenticationReason({ prompt: ['select_account', 'consent'] }, { ...session, authTime: now }, now, KNOWN)).toBe('select-account');
    expect(reauthenticationReason({ prompt: [], maxAge: 99 }, session, now, KNOWN)).toBe('max-age');
    expect(reauthenticationReason({ prompt: [], maxAge: 100 }, session, now, KNOWN)).toBeUndefined();
  });

  it('honours acr_values it knows and ignores the others (they are voluntary)', () => {
    expect(reauthenticationReason({ prompt: [], acrValues: ['urn:latchkey:loa:2'] }, session, now, KNOWN)).toBe('acr');
    expect(reauthenticationReason({ prompt: [], acrValues: ['urn:latchkey:loa:2', 'urn:latchkey:loa:1'] }, session, now, KNOWN)).toBeUndefined();
    expect(reauthenticationReason({ prompt: [], acrValues: ['urn:example:gold'] }, session, now, KNOWN)).toBeUndefined();
  });
});

describe('consentNeeded', () => {
  it('shows the page when consent is missing or prompt=consent', () => {
    expect(consentNeeded({ prompt: [] }, true)).toBe(false);
    expect(consentNeeded({ prompt: [] }, false)).toBe(true);
    expect(consentNeeded({ prompt: ['consent'] }, true)).toBe(true);
  });
});
