// A minimal scripted browser for the page flows without Chromium: a cookie jar (one host), manual
// redirects, and the hidden fields of a page's form. Enough to drive login / consent over plain HTTP.
import { http, type HttpResult } from './platform.js';

export class HttpBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return { ...(cookie ? { cookie } : {}), ...extra };
  }

  private remember(result: HttpResult): HttpResult {
    for (const line of result.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return result;
  }

  async get(url: string): Promise<HttpResult> {
    return this.remember(await http(url, { redirect: 'manual', headers: this.headers() }));
  }

  /** A same-origin form POST as a browser sends it (Origin header, Sec-Fetch-Site). */
  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: this.origin, 'sec-fetch-site': 'same-origin' }): Promise<HttpResult> {
    const url = path.startsWith('http') ? path : `${this.origin}${path}`;
    return this.remember(
      await http(url, { method: 'POST', redirect: 'manual', headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers }), body: new URLSearchParams(fields).toString() }),
    );
  }
}

/** The action and hidden fields of the first form of a page. */
export function formOf(page: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error(`no form in page: ${page.slice(0, 400)}`);
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]!] = decode(match[2]!);
  return { action: decode(action), fields };
}

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
