import { type Html, html } from './html.js';

/** What each scope lets an app do, in plain words, as the consent pages list it. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  openid: 'Know who you are when you sign in',
  profile: 'See your name and basic profile',
  email: 'See your email address',
  offline_access: 'Keep access while you are not using the app',
  'devices:read': 'See your devices and their status',
  'devices:write': 'Add, change and remove your devices',
  'devices:claim': 'Add a device to your account with its claim code',
  'lock:unlock': 'Lock and unlock your locks',
  'lock:configure': 'Change the settings of your locks',
  // Consent must say what `delegations` really does: the app receives tokens to act for the people who shared with you.
  delegations: 'Use the devices other people shared with you',
  'delegations:read': 'See who you share your devices with, and what is shared with you',
  'delegations:write': 'Share your devices, stop sharing them, and decline what is shared with you',
});

export interface ScopeDescription {
  scope: string;
  description: string;
  /** False when the scope is not in the table and the description is the fallback. */
  known: boolean;
}

export function describeScope(scope: string): ScopeDescription {
  const description = Object.hasOwn(SCOPE_DESCRIPTIONS, scope) ? SCOPE_DESCRIPTIONS[scope] : undefined;
  return description === undefined ? { scope, description: `Access: ${scope}`, known: false } : { scope, description, known: true };
}

/** The requested scopes as a list: each in plain words, with its technical name underneath. */
export function scopeList(scopes: readonly string[]): Html {
  const unique = [...new Set(scopes)];
  return html`<ul class="scopes">${unique.map((scope) => {
    const d = describeScope(scope);
    return html`<li>${d.description}${d.known ? html`<small>${d.scope}</small>` : ''}</li>`;
  })}</ul>`;
}
