/**
 * A minimal, safe HTML builder for the server-rendered pages (ADR 0011).
 *
 * `html\`<p>${value}</p>\`` escapes every interpolated value unless it is an `Html` produced by this
 * module, so text from users, clients or errors can never become markup. Rules it enforces:
 * - strings and numbers are escaped (`& < > " '`), which is enough in text and in quoted attributes;
 * - an interpolation right after `=` (an unquoted attribute value) is refused when the template is used;
 * - `null`, `undefined` and `false` render nothing (for `${cond && html\`...\`}`), arrays render each item;
 * - any other value (objects, `true`, functions, symbols) is a programming error and throws.
 * URLs are never taken from input: `ownUrl` admits only path-absolute URLs of this server.
 */

/** Only this module holds the key that constructs an `Html`. */
const TRUSTED: unique symbol = Symbol('latchkey.html.trusted');

/** Markup built by this module. Only `html`, `join` and `inlineStyle` create one. */
export class Html {
  readonly #value: string;

  constructor(key: symbol, value: string) {
    if (key !== TRUSTED) throw new TypeError('Html: build markup with the html`` template');
    this.#value = value;
  }

  toString(): string {
    return this.#value;
  }
}

function trusted(value: string): Html {
  return new Html(TRUSTED, value);
}

export function isHtml(value: unknown): value is Html {
  return value instanceof Html;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** The values a template accepts. */
export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

function renderValue(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (isHtml(value)) return value.toString();
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('html: refusing to render a non-finite number');
    return String(value);
  }
  if (Array.isArray(value)) return value.map(renderValue).join('');
  throw new TypeError(`html: refusing to render a value of type ${value === true ? 'true' : typeof value}`);
}

/** An interpolation right after `=` would be an unquoted attribute value, where escaping is not enough. */
const UNQUOTED_ATTRIBUTE = /=\s*$/;

/** Tagged template: escapes every interpolated value that is not itself `Html`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    if (UNQUOTED_ATTRIBUTE.test(strings[i] ?? '')) throw new TypeError('html: quote attribute values ("${...}")');
    out += renderValue(values[i]) + (strings[i + 1] ?? '');
  }
  return trusted(out);
}

/** Joins fragments (each escaped unless it is `Html`) with a separator. */
export function join(values: readonly HtmlValue[], separator: HtmlValue = ''): Html {
  return trusted(values.map(renderValue).join(renderValue(separator)));
}

/**
 * A `<style>` element around a CSS constant of the code base. Its content is raw text (not escaped,
 * so that its CSP hash is the hash of this very string); anything that could end the element is refused.
 */
export function inlineStyle(css: string): Html {
  if (css.includes('<')) throw new TypeError('inlineStyle: CSS must not contain "<"');
  return trusted(`<style>${css}</style>`);
}

/**
 * A URL of this server for `action` / `href`: a path-absolute URL (`/t/demo/login?x=1`). Refuses
 * scheme-relative (`//host`), backslash tricks (`/\host`, which browsers read as `//host`), any scheme
 * (`javascript:`, `data:`) and control characters or white space.
 */
export function ownUrl(url: string): string {
  if (!/^\/(?![/\\])[^\s\\\p{Cc}]*$/u.test(url)) throw new TypeError('ownUrl: not a path-absolute URL of this server');
  return url;
}

/** The string a page is sent as. */
export function render(page: Html): string {
  return page.toString();
}
