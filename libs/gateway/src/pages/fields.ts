import { type Html, html } from './html.js';

/** The names of the form fields the pages post; the controllers read the same names. */
export const FIELDS = {
  csrf: 'csrf_token',
  interaction: 'interaction_id',
  username: 'username',
  password: 'password',
  otp: 'otp',
  decision: 'decision',
  userCode: 'user_code',
  claimCode: 'code',
} as const;

/** The two values of the `decision` submit buttons. */
export const DECISIONS = { allow: 'allow', deny: 'deny' } as const;
export type Decision = (typeof DECISIONS)[keyof typeof DECISIONS];

/** The hidden fields every form carries: the CSRF token and, where there is one, the interaction. */
export function hiddenFields(csrfToken: string, interactionId?: string): Html {
  return html`<input type="hidden" name="${FIELDS.csrf}" value="${csrfToken}">${
    interactionId === undefined ? '' : html`<input type="hidden" name="${FIELDS.interaction}" value="${interactionId}">`
  }`;
}

/** Allow (the default button: first in the form) and Deny. */
export function decisionButtons(): Html {
  return html`<button type="submit" name="${FIELDS.decision}" value="${DECISIONS.allow}">Allow</button>
<button type="submit" name="${FIELDS.decision}" value="${DECISIONS.deny}" class="secondary">Deny</button>`;
}

/** An error message announced to screen readers; `id` lets inputs point at it. */
export function errorMessage(id: string, message: string | undefined): Html | '' {
  return message ? html`<p class="error" role="alert" id="${id}">${message}</p>` : '';
}
