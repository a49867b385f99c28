import { errorMessage, FIELDS, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';

export interface LoginPageOptions {
  tenantName: string;
  /** The app the person signs in to (its display name). */
  clientName: string;
  /** Where the form posts: a path of this gateway. */
  action: string;
  csrfToken: string;
  interactionId: string;
  /** Prefills the username after a failed attempt; shown (not editable) on the code step. */
  username?: string;
  error?: string;
  /**
   * The second step: the password was right and the account has a one-time-code credential. Only the
   * `otp` field is asked for; the controller keeps who passed the first step in its own state.
   */
  otpRequired?: boolean;
}

/** The sign-in form: `username` + `password`, then `otp` when the account needs one. */
export function loginPage(options: LoginPageOptions): Html {
  const { tenantName, clientName, csrfToken, interactionId, username, error, otpRequired } = options;
  const action = ownUrl(options.action);
  const describedBy = error ? html` aria-describedby="login-error" aria-invalid="true"` : '';
  const fields = otpRequired
    ? html`${username ? html`<p>Signed in as <strong>${username}</strong>.</p>` : ''}
<div class="field">
<label for="otp">Verification code</label>
<p class="muted" id="otp-hint">Enter the 6-digit code from your authenticator app.</p>
<input id="otp" name="${FIELDS.otp}" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus aria-describedby="otp-hint${error ? ' login-error' : ''}"${error ? html` aria-invalid="true"` : ''}>
</div>
<button type="submit">Verify</button>`
    : html`<div class="field">
<label for="username">Username</label>
<input id="username" name="${FIELDS.username}" type="text" value="${username ?? ''}" autocomplete="username" autocapitalize="none" autocorrect="off" spellcheck="false" maxlength="200" required${username ? '' : html` autofocus`}${describedBy}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="${FIELDS.password}" type="password" autocomplete="current-password" maxlength="1024" required${username ? html` autofocus` : ''}${describedBy}>
</div>
<button type="submit">Sign in</button>`;
  return layout({
    title: otpRequired ? 'Two-step verification' : 'Sign in',
    tenantName,
    body: html`<p>to continue to <strong>${clientName}</strong></p>
${errorMessage('login-error', error)}
<form method="post" action="${action}">
${hiddenFields(csrfToken, interactionId)}
${fields}
</form>`,
  });
}
