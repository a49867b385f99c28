import { errorMessage, FIELDS, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';

/** A claim code as typed: case, spaces and dashes do not matter. */
export function normalizeClaimCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]+/g, '');
}

/** A claim code for display: groups of four, `7K3M-Q9XA-…`. */
export function formatClaimCode(code: string): string {
  return (normalizeClaimCode(code).match(/.{1,4}/g) ?? []).join('-');
}

/** The same words for an unknown, expired, used or throttled code: a guesser learns nothing. */
export const CLAIM_CODE_FAILED = 'That code did not work. Check the code on the device’s label and try again. After several wrong codes, wait a while before trying again.';

export interface ClaimPageOptions {
  tenantName?: string;
  action: string;
  csrfToken: string;
  /** Who the device will belong to. */
  username: string;
  /** Prefilled from the QR code (`?code=`) or a previous attempt. */
  code?: string;
  error?: string;
}

/** `/t/{tenant}/claim`: the signed-in person types (or the QR code fills in) a device's claim code. */
export function claimPage({ tenantName, csrfToken, username, code, error, ...options }: ClaimPageOptions): Html {
  return layout({
    title: 'Add a device',
    tenantName,
    body: html`<p>Signed in as <strong>${username}</strong>. The device will be added to your devices.</p>
${errorMessage('claim-error', error)}
<form method="post" action="${ownUrl(options.action)}">
${hiddenFields(csrfToken)}
<div class="field">
<label for="claim_code">Claim code</label>
<p class="muted" id="claim-hint">Printed on the device or its box, for example 7K3M-Q9XA-2BFD-HT6W.</p>
<input id="claim_code" name="${FIELDS.claimCode}" class="code" type="text" value="${code ? formatClaimCode(code) : ''}" autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" maxlength="64" required autofocus aria-describedby="claim-hint${error ? ' claim-error' : ''}"${error ? html` aria-invalid="true"` : ''}>
</div>
<button type="submit">Add device</button>
</form>`,
  });
}

export interface ClaimDonePageOptions {
  tenantName?: string;
  serial: string;
  type: string;
}

/** After a successful claim. */
export function claimDonePage({ tenantName, serial, type }: ClaimDonePageOptions): Html {
  return layout({
    title: 'Device added',
    tenantName,
    body: html`<p class="done" role="status"><strong>Done.</strong> The device <strong>${serial}</strong> (${type}) is now yours.</p>
<p>You can close this page.</p>`,
  });
}
