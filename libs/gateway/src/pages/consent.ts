import { decisionButtons, hiddenFields } from './fields.js';
import { type Html, html, ownUrl } from './html.js';
import { layout } from './layout.js';
import { scopeList } from './scopes.js';

export interface ConsentPageOptions {
  tenantName?: string;
  clientName: string;
  /** The requested scopes (scope tokens); each is listed in plain words. */
  scopes: readonly string[];
  action: string;
  csrfToken: string;
  interactionId: string;
  /** Who is signed in (display name or username). */
  userDisplayName: string;
}

/** Asks the signed-in person whether the app may have the requested access: Allow / Deny. */
export function consentPage(options: ConsentPageOptions): Html {
  const { tenantName, clientName, scopes, csrfToken, interactionId, userDisplayName } = options;
  const action = ownUrl(options.action);
  return layout({
    title: 'Allow access?',
    tenantName,
    body: html`<p><strong>${clientName}</strong> would like to:</p>
${scopeList(scopes)}
<p class="muted">Signed in as <strong>${userDisplayName}</strong>. Your answer is remembered for this app; you can withdraw access at any time.</p>
<form method="post" action="${action}">
${hiddenFields(csrfToken, interactionId)}
${decisionButtons()}
</form>`,
  });
}
