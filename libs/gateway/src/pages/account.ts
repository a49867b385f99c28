import { errorMessage, FIELDS, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';

/** The `step` field of the one-time-code form: start an enrolment, or confirm it with a first code. */
export const OTP_STEPS = { start: 'start', confirm: 'confirm' } as const;

export interface OtpStartPageOptions {
  tenantName?: string;
  username: string;
  action: string;
  csrfToken: string;
}

/** `/t/{tenant}/account/otp` before enrolment: what it is, and a button to begin. */
export function otpStartPage({ tenantName, username, csrfToken, ...options }: OtpStartPageOptions): Html {
  return layout({
    title: 'Two-step verification',
    tenantName,
    body: html`<p>Signed in as <strong>${username}</strong>.</p>
<p>After setup, signing in asks for a 6-digit code from an authenticator app as well as your password.</p>
<form method="post" action="${ownUrl(options.action)}">
${hiddenFields(csrfToken)}<input type="hidden" name="step" value="${OTP_STEPS.start}">
<button type="submit">Set up an authenticator app</button>
</form>`,
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
export function otpDonePage({ tenantName, alreadyEnrolled }: { tenantName?: string; alreadyEnrolled: boolean }): Html {
  return layout({
    title: 'Two-step verification is on',
    tenantName,
    body: alreadyEnrolled
      ? html`<p role="status">Your account already has an authenticator app. Signing in asks for its code.</p>`
      : html`<p class="done" role="status"><strong>Done.</strong> From now on, signing in asks for a code from your authenticator app.</p>`,
  });
}
