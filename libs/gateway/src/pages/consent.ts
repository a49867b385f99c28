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
  /** The account page listing the apps the person allowed, where access is withdrawn. */
  consentsUrl: string;
}

/** Asks the signed-in person whether the app may have the requested access: Allow / Deny. */
export function consentPage(options: ConsentPageOptions): Html {
  const { tenantName, clientName, scopes, csrfToken, interactionId, userDisplayName, consentsUrl } = options;
  const action = ownUrl(options.action);
  return layout({
    title: 'Allow access?',
    tenantName,
    body: html`<p><strong>${clientName}</strong> would like to:</p>
${scopeList(scopes)}
<p class="muted">Signed in as <strong>${userDisplayName}</strong>. Your answer is remembered for this app; you can <a href="${ownUrl(consentsUrl)}">withdraw access at any time</a>.</p>
<form method="post" action="${action}">
${hiddenFields(csrfToken, interactionId)}
${decisionButtons()}
</form>`,
  });
}
