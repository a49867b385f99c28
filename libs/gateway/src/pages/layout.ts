import { createHash } from 'node:crypto';
import { type Html, html, inlineStyle } from './html.js';

/**
 * The one stylesheet of every page, inline (no external assets). Phone first: one column at most
 * 28rem wide, 16px+ text in system fonts, 48px touch targets, WCAG AA contrast in light and dark
 * schemes, a focus ring that is always visible. It must never contain `<` (see `inlineStyle`).
 */
export const PAGE_STYLE = [
  ':root{color-scheme:light dark;--bg:#eef0f3;--fg:#17191c;--muted:#474c54;--card:#fff;--line:#767c86;--accent:#0b57d0;--accent-fg:#fff;--err-bg:#fdecea;--err-fg:#8c1d18;--ok:#146c2e}',
  '@media (prefers-color-scheme:dark){:root{--bg:#111214;--fg:#eceef1;--muted:#b9bec7;--card:#1d1f23;--line:#8a919c;--accent:#a8c7fa;--accent-fg:#0a1f44;--err-bg:#3b1512;--err-fg:#ffb4ab;--ok:#8fd6a0}}',
  '*,*::before,*::after{box-sizing:border-box}',
  'html{-webkit-text-size-adjust:100%;text-size-adjust:100%}',
  'body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}',
  'main{max-width:28rem;margin:0 auto;padding:1.25rem .75rem 3rem}',
  '.card{background:var(--card);border-radius:.75rem;padding:1.5rem 1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}',
  '.tenant{margin:0 0 .5rem;color:var(--muted);font-size:.9375rem;font-weight:600}',
  'h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}',
  'h2{font-size:1.1875rem;line-height:1.3;margin:2rem 0 .25rem}',
  'p{margin:0 0 1rem}',
  '.muted{color:var(--muted);font-size:.9375rem}',
  '.field{margin:0 0 1.25rem}',
  'label{display:block;font-weight:600;margin:0 0 .375rem}',
  'input{display:block;width:100%;min-height:3rem;margin:0;padding:.625rem .75rem;font:inherit;color:inherit;background:var(--card);border:2px solid var(--line);border-radius:.5rem}',
  '.code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono",monospace;font-size:1.375rem;letter-spacing:.12em}',
  'input.code{text-transform:uppercase}',
  'button{display:block;width:100%;min-height:3rem;margin:0 0 .75rem;padding:.625rem 1rem;font:inherit;font-weight:600;border-radius:.5rem;border:2px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer}',
  'button.secondary{background:transparent;color:var(--accent)}',
  'a{color:var(--accent)}',
  'nav{margin:1.5rem 0 0;border-top:1px solid var(--line)}',
  'nav a{display:block;min-height:3rem;padding:.75rem 0}',
  ':focus-visible{outline:3px solid var(--fg);outline-offset:3px}',
  '.error{margin:0 0 1.25rem;padding:.75rem 1rem;border-left:4px solid currentColor;border-radius:.375rem;background:var(--err-bg);color:var(--err-fg)}',
  '.done{color:var(--ok)}',
  '.scopes{list-style:none;margin:0 0 1.5rem;padding:0;border-top:1px solid var(--line)}',
  '.scopes li{padding:.75rem 0;border-bottom:1px solid var(--line)}',
  '.scopes small{display:block;color:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8125rem}',
  '.user-code{margin:0 0 1.25rem;text-align:center}',
  '.card>:last-child,form>:last-child{margin-bottom:0}',
].join('');

/** The CSP source expression of PAGE_STYLE: computed once, at load. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`;

export interface LayoutOptions {
  /** The page's heading and, with the tenant, its `<title>`. */
  title: string;
  /** The tenant's display name, shown above the card. */
  tenantName?: string;
  body: Html;
  lang?: string;
}

/** The document around every page: no JavaScript, no external resource. */
export function layout({ title, tenantName, body, lang = 'en' }: LayoutOptions): Html {
  const language = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : 'en';
  return html`<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${title}${tenantName ? ` – ${tenantName}` : ''}</title>
${inlineStyle(PAGE_STYLE)}
</head>
<body>
<main>
${tenantName ? html`<p class="tenant">${tenantName}</p>` : ''}
<div class="card">
<h1>${title}</h1>
${body}
</div>
</main>
</body>
</html>
`;
}

export interface PageHeaderOptions {
  /**
   * Where a form on this page may end up after the gateway's redirect: the validated `redirect_uri`
   * of the authorization request (login and consent pages). Chromium and WebKit check `form-action`
   * against every redirect that follows a form submission, so without it Allow / Deny could not reach
   * the client (ADR 0011).
   */
  formActionTargets?: readonly string[];
}

const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'blob:', 'filesystem:', 'about:', 'file:']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/**
 * CSP source expressions admitting navigation to a redirect URI: its origin; for a loopback redirect
 * any port (RFC 8252 §7.3 lets a native app pick one at run time); for a private-use scheme
 * (`com.example.app:/cb`, RFC 8252 §7.1) the scheme. IPv6 literals have no CSP host-source syntax,
 * so `http://[::1]:…` admits the `http:` scheme.
 */
export function formActionSources(redirectUri: string): string[] {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new TypeError('formActionSources: not an absolute URL');
  }
  const scheme = url.protocol.toLowerCase();
  if (UNSAFE_SCHEMES.has(scheme) || !/^[a-z][a-z0-9+.-]*:$/.test(scheme)) throw new TypeError(`formActionSources: refusing scheme ${scheme}`);
  if (scheme !== 'http:' && scheme !== 'https:') return [scheme];
  if (url.hostname.startsWith('[')) return [scheme];
  if (LOOPBACK_HOSTS.has(url.hostname)) return [`${scheme}//${url.hostname}:*`];
  return [url.origin];
}

/** The Content-Security-Policy of every page. */
export function contentSecurityPolicy(formActionTargets: readonly string[] = []): string {
  const formAction = ["'self'", ...new Set(formActionTargets.flatMap(formActionSources))].join(' ');
  return `default-src 'none'; style-src ${PAGE_STYLE_HASH}; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`;
}

/**
 * Headers of every page. `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` a
 * browser sends `Origin: null` on the page's own same-origin POST (Fetch §3.1), which would defeat the
 * Origin check (`csrf.ts`); `same-origin` still sends nothing to any other origin.
 */
export function pageHeaders(options: PageHeaderOptions = {}): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': contentSecurityPolicy(options.formActionTargets),
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
  };
}

/** Headers of the 303 that ends a form submission (to the client or to the next page). */
export const REDIRECT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'referrer-policy': 'no-referrer',
});
