import { describe, expect, it } from '@jest/globals';
import { accountPaths, consentsPage, otpConfirmPage, otpDonePage, otpStartPage } from './account.js';
import { CLAIM_CODE_FAILED, claimDonePage, claimPage, formatClaimCode } from './claim.js';
import { consentPage } from './consent.js';
import { deviceConfirmPage, deviceDonePage, deviceVerificationPage, formatUserCode, normalizeUserCode } from './device.js';
import { errorPage, loggedOutPage } from './error.js';
import { type Html, render } from './html.js';
import { loginPage } from './login.js';
import { describeScope } from './scopes.js';

interface Element {
  tag: string;
  attrs: Record<string, string>;
}

/** The start tags of a page with their attributes (our markup always quotes attribute values). */
function elements(page: Html): Element[] {
  return [...render(page).matchAll(/<([a-z][a-z0-9]*)((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*>/g)].map((m) => ({
    tag: m[1] as string,
    attrs: Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1] as string, a[2] ?? ''])),
  }));
}

const byTag = (page: Html, tag: string) => elements(page).filter((e) => e.tag === tag);
const inputNamed = (page: Html, name: string) => byTag(page, 'input').find((e) => e.attrs.name === name);

/** Every visible input has a label pointing at its id, and ids are unique. */
function expectLabelled(page: Html): void {
  const ids = elements(page).flatMap((e) => (e.attrs.id ? [e.attrs.id] : []));
  expect(new Set(ids).size).toBe(ids.length);
  const labels = byTag(page, 'label').map((l) => l.attrs.for);
  for (const input of byTag(page, 'input').filter((i) => i.attrs.type !== 'hidden')) {
    expect(input.attrs.id).toBeTruthy();
    expect(labels).toContain(input.attrs.id);
  }
}

/** One form, posted to `action`, with the CSRF token as a hidden field. */
function expectForm(page: Html, action: string, csrfToken: string): void {
  const forms = byTag(page, 'form');
  expect(forms).toEqual([{ tag: 'form', attrs: { method: 'post', action } }]);
  expect(inputNamed(page, 'csrf_token')?.attrs).toEqual({ type: 'hidden', name: 'csrf_token', value: csrfToken });
}

function expectNoScript(page: Html): void {
  expect(render(page)).not.toMatch(/<script|\son[a-z]+=|\sstyle=|javascript:/i);
}

const XSS = `"><script>alert(1)</script>`;

describe('loginPage', () => {
  const base = { tenantName: 'Demo', clientName: 'Door App', action: '/t/demo/login', csrfToken: 'tok.123', interactionId: 'int-1' };

  it('asks for username and password, posting to the action with the CSRF token and interaction', () => {
    const page = loginPage(base);
    expectForm(page, '/t/demo/login', 'tok.123');
    expect(inputNamed(page, 'interaction_id')?.attrs).toMatchObject({ type: 'hidden', value: 'int-1' });
    expect(inputNamed(page, 'username')?.attrs).toMatchObject({ id: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', required: '', autofocus: '' });
    expect(inputNamed(page, 'password')?.attrs).toMatchObject({ id: 'password', type: 'password', autocomplete: 'current-password', required: '' });
    expect(inputNamed(page, 'otp')).toBeUndefined();
    expect(byTag(page, 'button').map((b) => b.attrs.type)).toEqual(['submit']);
    expectLabelled(page);
    expectNoScript(page);
    expect(render(page)).toContain('<strong>Door App</strong>');
  });

  it('after a failure: keeps the username, shows the error and focuses the password', () => {
    const page = loginPage({ ...base, username: 'adam', error: 'Wrong username or password.' });
    expect(inputNamed(page, 'username')?.attrs).toMatchObject({ value: 'adam', 'aria-invalid': 'true', 'aria-describedby': 'login-error' });
    expect(inputNamed(page, 'username')?.attrs.autofocus).toBeUndefined();
    expect(inputNamed(page, 'password')?.attrs.autofocus).toBe('');
    expect(byTag(page, 'p').find((p) => p.attrs.role === 'alert')?.attrs.id).toBe('login-error');
  });

  it('asks only for the one-time code on the second step', () => {
    const page = loginPage({ ...base, username: 'adam', otpRequired: true });
    expectForm(page, '/t/demo/login', 'tok.123');
    expect(inputNamed(page, 'otp')?.attrs).toMatchObject({ id: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', required: '' });
    expect(inputNamed(page, 'password')).toBeUndefined();
    expectLabelled(page);
  });

  it('escapes the username, client name, tenant name and error', () => {
    const out = render(loginPage({ ...base, tenantName: XSS, clientName: XSS, username: XSS, error: XSS }));
    expect(out).not.toContain('<script>');
    expect(out).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('only posts to a path of this server', () => {
    expect(() => loginPage({ ...base, action: 'javascript:alert(1)' })).toThrow(TypeError);
    expect(() => loginPage({ ...base, action: '//evil.example/steal' })).toThrow(TypeError);
  });
});

describe('consentPage', () => {
  const base = { clientName: 'Door App', scopes: ['openid', 'lock:unlock', 'acme:thing'], action: '/t/demo/consent', csrfToken: 'tok', interactionId: 'int-2', userDisplayName: 'Adam', consentsUrl: '/t/demo/account/consents' };

  it('lists each scope in plain words, with Allow and Deny as two submit buttons named decision', () => {
    const page = consentPage(base);
    expectForm(page, '/t/demo/consent', 'tok');
    expect(inputNamed(page, 'interaction_id')?.attrs.value).toBe('int-2');
    expect(byTag(page, 'button').map((b) => b.attrs)).toEqual([
      { type: 'submit', name: 'decision', value: 'allow' },
      { type: 'submit', name: 'decision', value: 'deny', class: 'secondary' },
    ]);
    const out = render(page);
    expect(out).toContain('<li>Know who you are when you sign in<small>openid</small></li>');
    expect(out).toContain('<li>Lock and unlock your locks<small>lock:unlock</small></li>');
    expect(out).toContain('<li>Access: acme:thing</li>');
    expectNoScript(page);
  });

  it('escapes the client name, user name and unknown scopes', () => {
    const out = render(consentPage({ ...base, clientName: XSS, userDisplayName: XSS, scopes: [XSS] }));
    expect(out).not.toContain('<script>');
  });

  it('links "withdraw access at any time" to the account page, and only to a path of this server', () => {
    expect(render(consentPage(base))).toContain('you can <a href="/t/demo/account/consents">withdraw access at any time</a>.');
    expect(() => consentPage({ ...base, consentsUrl: 'https://evil.example/' })).toThrow(TypeError);
  });
});

describe('scope descriptions', () => {
  it('describes every scope of the platform and falls back to "Access: <scope>"', () => {
    for (const scope of ['openid', 'profile', 'email', 'offline_access', 'devices:read', 'devices:write', 'devices:claim', 'lock:unlock', 'lock:configure', 'delegations']) {
      expect(describeScope(scope)).toMatchObject({ scope, known: true });
    }
    expect(describeScope('toString')).toEqual({ scope: 'toString', description: 'Access: toString', known: false });
    expect(describeScope('__proto__').known).toBe(false);
  });
});

describe('device pages', () => {
  it('verification: a user code field that capitalises, prefilled and formatted XXXX-XXXX', () => {
    const page = deviceVerificationPage({ action: '/t/demo/device', csrfToken: 'tok', userCode: 'wdjbmjht' });
    expectForm(page, '/t/demo/device', 'tok');
    expect(inputNamed(page, 'user_code')?.attrs).toMatchObject({ id: 'user_code', value: 'WDJB-MJHT', autocapitalize: 'characters', autocomplete: 'off', spellcheck: 'false', required: '' });
    expectLabelled(page);
    expectNoScript(page);
  });

  it('verification: shows an error and escapes the code given back', () => {
    const page = deviceVerificationPage({ action: '/t/demo/device', csrfToken: 'tok', userCode: '"><b>', error: 'That code is not valid.' });
    const out = render(page);
    expect(out).not.toContain('<b>');
    expect(out).toContain('role="alert"');
    expect(inputNamed(page, 'user_code')?.attrs['aria-invalid']).toBe('true');
  });

  it('confirm: shows the code and scopes and posts the code back with Allow / Deny', () => {
    const page = deviceConfirmPage({ clientName: 'Bike Lock', scopes: ['lock:unlock'], userCode: 'WDJBMJHT', action: '/t/demo/device/confirm', csrfToken: 'tok' });
    expectForm(page, '/t/demo/device/confirm', 'tok');
    expect(inputNamed(page, 'user_code')?.attrs).toEqual({ type: 'hidden', name: 'user_code', value: 'WDJB-MJHT' });
    expect(byTag(page, 'button').map((b) => b.attrs.value)).toEqual(['allow', 'deny']);
    expect(render(page)).toContain('<strong>WDJB-MJHT</strong>');
  });

  it('done: says what happened, with no form', () => {
    expect(render(deviceDonePage({ approved: true }))).toContain('Device connected');
    expect(render(deviceDonePage({ approved: false }))).toContain('Access denied');
    expect(byTag(deviceDonePage({ approved: true }), 'form')).toEqual([]);
  });

  it('user codes: case, spaces and dashes do not matter', () => {
    expect(normalizeUserCode(' wdjb-mjht ')).toBe('WDJBMJHT');
    expect(formatUserCode('wdjb mjht')).toBe('WDJB-MJHT');
  });
});

describe('claim pages', () => {
  it('a labelled claim-code field, prefilled and formatted in groups of four, posting with the CSRF token', () => {
    const page = claimPage({ tenantName: 'Demo', action: '/t/demo/claim', csrfToken: 'tok', username: 'adam', code: '7k3mq9xa2bfdht6w' });
    expectForm(page, '/t/demo/claim', 'tok');
    expect(inputNamed(page, 'code')?.attrs).toMatchObject({ id: 'claim_code', value: '7K3M-Q9XA-2BFD-HT6W', autocapitalize: 'characters', autocomplete: 'off', required: '' });
    expect(render(page)).toContain('Signed in as <strong>adam</strong>');
    expectLabelled(page);
    expectNoScript(page);
  });

  it('shows the failure in plain words and escapes what came from outside', () => {
    const out = render(claimPage({ action: '/t/demo/claim', csrfToken: 'tok', username: XSS, code: XSS, error: CLAIM_CODE_FAILED }));
    expect(out).not.toContain('<script>');
    expect(out).toContain('role="alert"');
    expect(render(claimDonePage({ serial: XSS, type: 'Bike lock' }))).not.toContain('<script>');
    expect(formatClaimCode(' ab-cd efgh ')).toBe('ABCD-EFGH');
  });
});

describe('errorPage and loggedOutPage', () => {
  it('shows the title, the escaped description and the status', () => {
    const out = render(errorPage({ title: 'Invalid request', description: `bad <img src=x onerror=alert(1)>`, status: 400 }));
    expect(out).toContain('<h1>Invalid request</h1>');
    expect(out).toContain('bad &lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('Error 400');
  });

  it('shows no stack trace: only the words it is given, cut to a reasonable length', () => {
    const out = render(errorPage({ title: 'Oops', description: 'x'.repeat(5000), status: 999 }));
    expect(out).toContain('Error 500');
    expect(out).not.toContain('x'.repeat(600));
    expect(out).not.toMatch(/at \S+ \(|Error:/);
  });

  it('signed out', () => {
    expect(render(loggedOutPage({ tenantName: 'Demo' }))).toContain('<h1>Signed out</h1>');
  });
});

describe('account one-time-code pages', () => {
  it('shows the secret and the otpauth URI as text, escaped, with a labelled code field', () => {
    const page = otpConfirmPage({ action: '/t/demo/account/otp', csrfToken: 'tok', secret: 'JBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Demo:adam?secret=JBSWY3DPEHPK3PXP&x="<' });
    expectForm(page, '/t/demo/account/otp', 'tok');
    expectLabelled(page);
    expect(render(page)).toContain('JBSWY3DPEHPK3PXP');
    expect(render(page)).toContain('&amp;x=&quot;&lt;');
    expect(inputNamed(page, 'otp')?.attrs.autocomplete).toBe('one-time-code');
    expect(inputNamed(page, 'step')?.attrs.value).toBe('confirm');
  });

  it('starts with a button only, and ends without a form', () => {
    const start = otpStartPage({ username: 'adam', action: '/t/demo/account/otp', csrfToken: 'tok', nav: accountPaths('demo') });
    expectForm(start, '/t/demo/account/otp', 'tok');
    expect(inputNamed(start, 'step')?.attrs.value).toBe('start');
    expect(byTag(otpDonePage({ alreadyEnrolled: false, nav: accountPaths('demo') }), 'form')).toEqual([]);
  });

  it('link to the list of apps with access (and not to themselves)', () => {
    for (const page of [otpStartPage({ username: 'adam', action: '/t/demo/account/otp', csrfToken: 'tok', nav: accountPaths('demo') }), otpDonePage({ alreadyEnrolled: true, nav: accountPaths('demo') })]) {
      expect(byTag(page, 'a').map((a) => a.attrs.href)).toEqual(['/t/demo/account/consents']);
    }
  });
});

describe('account page of apps with access', () => {
  const app = (clientId: string, clientName: string, scopes: string[], csrfToken: string) => ({ clientId, clientName, scopes, grantedAt: '2025-03-04T23:30:00.000Z', csrfToken });
  const base = { tenantName: 'Demo', username: 'adam', action: '/t/demo/account/consents', nav: accountPaths('demo') };

  it('lists each app with its scopes in plain words, since when, and a withdraw form of its own', () => {
    const page = consentsPage({ ...base, apps: [app('demo-web', 'Demo web app', ['openid', 'offline_access'], 'tok-web'), app('demo-app', 'Demo mobile app', ['lock:unlock'], 'tok-app')] });
    const out = render(page);
    expect(byTag(page, 'h2').map((h) => h.attrs.id)).toEqual(['app-0', 'app-1']);
    expect(out).toContain('<h2 id="app-0">Demo web app</h2>');
    expect(out).toContain('<li>Keep access while you are not using the app<small>offline_access</small></li>');
    expect(out).toContain('<li>Lock and unlock your locks<small>lock:unlock</small></li>');
    expect(out).toContain('Allowed since <time datetime="2025-03-04T23:30:00.000Z">4 March 2025</time>');
    expect(byTag(page, 'form')).toEqual([
      { tag: 'form', attrs: { method: 'post', action: '/t/demo/account/consents' } },
      { tag: 'form', attrs: { method: 'post', action: '/t/demo/account/consents' } },
    ]);
    const hidden = byTag(page, 'input').map((input) => input.attrs);
    expect(hidden).toEqual([
      { type: 'hidden', name: 'csrf_token', value: 'tok-web' },
      { type: 'hidden', name: 'client_id', value: 'demo-web' },
      { type: 'hidden', name: 'csrf_token', value: 'tok-app' },
      { type: 'hidden', name: 'client_id', value: 'demo-app' },
    ]);
    // Each button says which app it is about to screen readers; its visible words are in that name (WCAG 2.5.3).
    expect(byTag(page, 'button').map((b) => b.attrs['aria-label'])).toEqual(['Withdraw access from Demo web app', 'Withdraw access from Demo mobile app']);
    expect(byTag(page, 'a').map((a) => a.attrs.href)).toEqual(['/t/demo/account/otp']);
    expectNoScript(page);
  });

  it('says so when no app has access, and announces what a withdrawal did', () => {
    const empty = consentsPage({ ...base, apps: [] });
    expect(render(empty)).toContain('No app has access to your account.');
    expect(byTag(empty, 'form')).toEqual([]);
    const done = render(consentsPage({ ...base, apps: [], notice: { kind: 'withdrawn', clientName: 'Demo web app' } }));
    expect(done).toContain('<p class="done" role="status"><strong>Demo web app</strong> no longer has access to your account.');
    expect(render(consentsPage({ ...base, apps: [], notice: { kind: 'nothing-to-withdraw' } }))).toContain('<p role="status">That app had no access to withdraw.</p>');
  });

  it('escapes app names, client ids, scopes and the username', () => {
    const out = render(consentsPage({ ...base, username: XSS, apps: [app(XSS, XSS, [XSS], 'tok')], notice: { kind: 'withdrawn', clientName: XSS } }));
    expect(out).not.toContain('<script>');
    expect(out).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('only posts to a path of this server', () => {
    expect(() => consentsPage({ ...base, apps: [], action: '//evil.example/' })).toThrow(TypeError);
  });
});
