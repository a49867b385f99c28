import { errorMessage, FIELDS, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';
import { scopeList } from './scopes.js';

/** The `step` field of the one-time-code form: start an enrolment, or confirm it with a first code. */
export const OTP_STEPS = { start: 'start', confirm: 'confirm' } as const;

/** The field naming the app whose access a withdraw form ends. */
export const CLIENT_ID_FIELD = 'client_id';

/** The pages of a tenant's account area (paths of this gateway), which link to each other. */
export interface AccountPaths {
  otp: string;
  consents: string;
}

export function accountPaths(tenant: string): AccountPaths {
  return { otp: `/t/${tenant}/account/otp`, consents: `/t/${tenant}/account/consents` };
}

const ACCOUNT_LINKS: ReadonlyArray<readonly [keyof AccountPaths, string]> = [
  ['consents', 'Apps with access to your account'],
  ['otp', 'Two-step verification'],
];

/** Links to the other account pages, under the card's content. */
function accountNav(paths: AccountPaths, current: keyof AccountPaths): Html {
  const links = ACCOUNT_LINKS.filter(([page]) => page !== current).map(([page, label]) => html`<a href="${ownUrl(paths[page])}">${label}</a>`);
  return html`<nav aria-label="Your account">${links}</nav>`;
}

export interface OtpStartPageOptions {
  tenantName?: string;
  username: string;
  action: string;
  csrfToken: string;
  nav: AccountPaths;
}

/** `/t/{tenant}/account/otp` before enrolment: what it is, and a button to begin. */
export function otpStartPage({ tenantName, username, csrfToken, nav, ...options }: OtpStartPageOptions): Html {
  return layout({
    title: 'Two-step verification',
    tenantName,
    body: html`<p>Signed in as <strong>${username}</strong>.</p>
<p>After setup, signing in asks for a 6-digit code from an authenticator app as well as your password.</p>
<form method="post" action="${ownUrl(options.action)}">
${hiddenFields(csrfToken)}<input type="hidden" name="step" value="${OTP_STEPS.start}">
<button type="submit">Set up an authenticator app</button>
</form>
${accountNav(nav, 'otp')}`,
  });
}

export interface OtpConfirmPageOptions {
  tenantName?: string;
  action: string;
  csrfToken: string;
  /** Shown once, right after enrolment starts; absent when a wrong first code is asked again. */
  secret?: string;
  otpauthUri?: string;
  error?: string;
}

/** The new secret (as text: no QR code) and the field for the first code, which confirms it. */
export function otpConfirmPage({ tenantName, csrfToken, secret, otpauthUri, error, ...options }: OtpConfirmPageOptions): Html {
  return layout({
    title: 'Add to your authenticator app',
    tenantName,
    body: html`${errorMessage('otp-error', error)}${
      secret
        ? html`<p>Enter this key in your authenticator app (time-based, 6 digits, 30 seconds):</p>
<p class="user-code code" id="otp-secret"><strong>${secret}</strong></p>
<p class="muted">Or use this link, on a device that has the app:</p>
<p class="muted code" id="otp-uri">${otpauthUri ?? ''}</p>`
        : html`<p>Enter the current code from the authenticator app you just set up.</p>`
    }
<form method="post" action="${ownUrl(options.action)}">
${hiddenFields(csrfToken)}<input type="hidden" name="step" value="${OTP_STEPS.confirm}">
<div class="field">
<label for="otp">Code from the app</label>
<input id="otp" name="${FIELDS.otp}" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus${error ? html` aria-describedby="otp-error" aria-invalid="true"` : ''}>
</div>
<button type="submit">Confirm</button>
</form>`,
  });
}

/** After confirmation, or when the account already has a confirmed authenticator. */
export function otpDonePage({ tenantName, alreadyEnrolled, nav }: { tenantName?: string; alreadyEnrolled: boolean; nav: AccountPaths }): Html {
  return layout({
    title: 'Two-step verification is on',
    tenantName,
    body: html`${
      alreadyEnrolled
        ? html`<p role="status">Your account already has an authenticator app. Signing in asks for its code.</p>`
        : html`<p class="done" role="status"><strong>Done.</strong> From now on, signing in asks for a code from your authenticator app.</p>`
    }
${accountNav(nav, 'otp')}`,
  });
}

/**
 * How the person gave an app access: on the consent page when they signed in to it (authorization-code
 * flow), or by pairing it with a code it showed (RFC 8628 device grant, e.g. a TV).
 */
export type AllowedBy = 'sign-in' | 'code';

/** One app the person allowed, with the CSRF token of the form that withdraws it. */
export interface AppAccess {
  clientId: string;
  clientName: string;
  scopes: readonly string[];
  /** ISO 8601: when the person first allowed the app. */
  grantedAt: string;
  /** Absent: on the consent page, the one way there was before the device grant's apps were listed. */
  allowedBy?: AllowedBy;
  csrfToken: string;
}

/** What the last withdraw form did. */
export type WithdrawNotice = { kind: 'withdrawn'; clientName: string } | { kind: 'nothing-to-withdraw' };

export interface ConsentsPageOptions {
  tenantName?: string;
  username: string;
  apps: readonly AppAccess[];
  /** Where each withdraw form posts. */
  action: string;
  nav: AccountPaths;
  notice?: WithdrawNotice;
}

// A date without a time of day: the server does not know the person's time zone, so it says UTC's day.
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

function day(iso: string): Html {
  return html`<time datetime="${iso}">${DAY.format(new Date(iso))}</time>`;
}

function withdrawNotice(notice: WithdrawNotice | undefined): Html | '' {
  if (!notice) return '';
  if (notice.kind === 'nothing-to-withdraw') return html`<p role="status">That app had no access to withdraw.</p>`;
  return html`<p class="done" role="status"><strong>${notice.clientName}</strong> no longer has access to your account. If you use it again, it will ask you first.</p>`;
}

function allowedSince(app: AppAccess): Html {
  return app.allowedBy === 'code' ? html`Paired with a code since ${day(app.grantedAt)}.` : html`Allowed since ${day(app.grantedAt)}, when you signed in to it.`;
}

/**
 * `/t/{tenant}/account/consents`: the apps the signed-in person allowed, each with how and since when,
 * what it may do in plain words, and a form that withdraws its access (and the refresh tokens it holds).
 */
export function consentsPage({ tenantName, username, apps, nav, notice, ...options }: ConsentsPageOptions): Html {
  const action = ownUrl(options.action);
  const list = apps.map(
    (app, index) => html`<h2 id="app-${index}">${app.clientName}</h2>
<p class="muted">${allowedSince(app)} It may:</p>
${scopeList(app.scopes)}
<form method="post" action="${action}">
${hiddenFields(app.csrfToken)}<input type="hidden" name="${CLIENT_ID_FIELD}" value="${app.clientId}">
<button type="submit" class="secondary" aria-label="Withdraw access from ${app.clientName}">Withdraw access</button>
</form>
`,
  );
  return layout({
    title: 'Apps with access',
    tenantName,
    body: html`<p>Signed in as <strong>${username}</strong>.</p>
${withdrawNotice(notice)}
${
  apps.length > 0
    ? html`<p>These apps may use your account because you allowed them, when you signed in to them or paired them with a code. Withdrawing access takes back what you allowed, including access while you are not using the app; the app has to ask you again.</p>
${list}`
    : html`<p>No app has access to your account. When you allow an app, it is listed here.</p>`
}
${accountNav(nav, 'consents')}`,
  });
}
