import { type Html, html } from './html.js';
import { layout } from './layout.js';

export interface ErrorPageOptions {
  tenantName?: string;
  title: string;
  /** What went wrong and what to do, for a person. Escaped; cut at 500 characters. */
  description: string;
  /** The HTTP status the page is sent with; shown small, under the text. */
  status: number;
}

const MAX_DESCRIPTION = 500;

/** A status an error page may be sent with: 4xx or 5xx, else 500. */
export function errorStatus(status: number): number {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/**
 * An error page: only the title and description it is given (never a stack trace or an exception
 * message — the caller passes words meant for people).
 */
export function errorPage({ tenantName, title, description, status }: ErrorPageOptions): Html {
  const text = description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION - 1)}…` : description;
  return layout({
    title,
    tenantName,
    body: html`<p>${text}</p>
<p class="muted">Error ${errorStatus(status)}</p>`,
  });
}

/** After sign-out. */
export function loggedOutPage(options: { tenantName?: string } = {}): Html {
  return layout({
    title: 'Signed out',
    tenantName: options.tenantName,
    body: html`<p role="status">You have been signed out.</p>
<p>You can close this page.</p>`,
  });
}
