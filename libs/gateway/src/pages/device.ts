import { decisionButtons, errorMessage, FIELDS, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';
import { scopeList } from './scopes.js';

/** A user code as typed: case, spaces and dashes do not matter (RFC 8628 §6.1). */
export function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]+/g, '');
}

/** A user code for display: groups of four, `WDJB-MJHT`. */
export function formatUserCode(code: string): string {
  return (normalizeUserCode(code).match(/.{1,4}/g) ?? []).join('-');
}

export interface DeviceVerificationPageOptions {
  tenantName?: string;
  action: string;
  csrfToken: string;
  /** Prefilled from `verification_uri_complete` or a previous attempt. */
  userCode?: string;
  error?: string;
}

/** `/t/{tenant}/device`: the person types the code their device shows. */
export function deviceVerificationPage(options: DeviceVerificationPageOptions): Html {
  const { tenantName, csrfToken, userCode, error } = options;
  const action = ownUrl(options.action);
  return layout({
    title: 'Connect a device',
    tenantName,
    body: html`${errorMessage('code-error', error)}
<form method="post" action="${action}">
${hiddenFields(csrfToken)}
<div class="field">
<label for="user_code">Code shown on your device</label>
<p class="muted" id="code-hint">8 letters, for example WDJB-MJHT.</p>
<input id="user_code" name="${FIELDS.userCode}" class="code" type="text" value="${userCode ? formatUserCode(userCode) : ''}" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" maxlength="20" required autofocus aria-describedby="code-hint${error ? ' code-error' : ''}"${error ? html` aria-invalid="true"` : ''}>
</div>
<button type="submit">Continue</button>
</form>`,
  });
}

export interface DeviceConfirmPageOptions {
  tenantName?: string;
  clientName: string;
  scopes: readonly string[];
  userCode: string;
  action: string;
  csrfToken: string;
}

/** After the code: which device app asks for what, and Allow / Deny. */
export function deviceConfirmPage(options: DeviceConfirmPageOptions): Html {
  const { tenantName, clientName, scopes, userCode, csrfToken } = options;
  const action = ownUrl(options.action);
  const code = formatUserCode(userCode);
  return layout({
    title: 'Connect this device?',
    tenantName,
    body: html`<p>Check that your device shows this code:</p>
<p class="user-code code"><strong>${code}</strong></p>
<p class="muted">If it shows another code, choose Deny.</p>
<p><strong>${clientName}</strong> on that device would like to:</p>
${scopeList(scopes)}
<form method="post" action="${action}">
${hiddenFields(csrfToken)}
<input type="hidden" name="${FIELDS.userCode}" value="${code}">
${decisionButtons()}
</form>`,
  });
}

export interface DeviceDonePageOptions {
  tenantName?: string;
  approved: boolean;
}

/** The end of the device flow: the device picks the answer up by itself. */
export function deviceDonePage({ tenantName, approved }: DeviceDonePageOptions): Html {
  return approved
    ? layout({
        title: 'Device connected',
        tenantName,
        body: html`<p class="done" role="status"><strong>Done.</strong> Your device will continue on its own in a few seconds.</p>
<p>You can close this page.</p>`,
      })
    : layout({
        title: 'Access denied',
        tenantName,
        body: html`<p role="status">The device was not given access.</p>
<p>You can close this page.</p>`,
      });
}
