import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { html, render } from './html.js';
import { contentSecurityPolicy, formActionSources, layout, PAGE_STYLE, PAGE_STYLE_HASH, pageHeaders, REDIRECT_HEADERS } from './layout.js';

const page = render(layout({ title: 'T <1>', tenantName: 'Demo & Co', body: html`<p>body</p>` }));

describe('layout', () => {
  it('is a complete document: doctype, lang, charset, phone viewport', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<title>T &lt;1&gt; – Demo &amp; Co</title>');
    expect(page).toContain('<h1>T &lt;1&gt;</h1>');
  });

  it('loads nothing and runs nothing: no script, no external resource, no style attribute', () => {
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\sstyle=|\son[a-z]+=|url\(/i);
    expect(PAGE_STYLE).not.toMatch(/@import|url\(/i);
  });

  it('falls back to English for a malformed lang', () => {
    expect(render(layout({ title: 't', body: html``, lang: 'en" onload="x' }))).toContain('<html lang="en">');
    expect(render(layout({ title: 't', body: html``, lang: 'de-CH' }))).toContain('<html lang="de-CH">');
  });

  it('the CSP hash is the sha256 of the <style> element\'s content as rendered', () => {
    const styles = [...page.matchAll(/<style>([^<]*)<\/style>/g)].map((m) => m[1] as string);
    expect(styles).toHaveLength(1);
    const hash = `'sha256-${createHash('sha256').update(styles[0] as string, 'utf8').digest('base64')}'`;
    expect(hash).toBe(PAGE_STYLE_HASH);
    expect(contentSecurityPolicy()).toContain(`style-src ${hash};`);
  });
});

describe('pageHeaders', () => {
  it('sends the security headers of every page', () => {
    const headers = pageHeaders();
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    expect(headers['content-security-policy']).toBe(`default-src 'none'; style-src ${PAGE_STYLE_HASH}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`);
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('admits the validated redirect target in form-action (Chromium checks it on the redirect after POST)', () => {
    const csp = pageHeaders({ formActionTargets: ['https://app.example.com/cb?x=1', 'https://app.example.com/other'] })['content-security-policy'];
    expect(csp).toContain("form-action 'self' https://app.example.com;");
  });

  it('turns redirect URIs into source expressions', () => {
    expect(formActionSources('https://App.Example.com:8443/cb')).toEqual(['https://app.example.com:8443']);
    expect(formActionSources('http://127.0.0.1:51004/cb')).toEqual(['http://127.0.0.1:*']);
    expect(formActionSources('http://localhost/cb')).toEqual(['http://localhost:*']);
    expect(formActionSources('com.example.app:/oauth2redirect')).toEqual(['com.example.app:']);
    expect(formActionSources('http://[::1]:8080/cb')).toEqual(['http:']);
  });

  it('never admits script-like schemes or garbage, so no directive can be injected', () => {
    for (const uri of ['javascript:alert(1)', 'data:text/html,x', 'not a url', "https://a.example/'; script-src *"]) {
      let sources: string[] = [];
      try {
        sources = formActionSources(uri);
      } catch {
        continue;
      }
      expect(sources.join(' ')).not.toMatch(/[;'\s]/);
    }
    expect(() => formActionSources('javascript:alert(1)')).toThrow(TypeError);
  });

  it('redirects after POST carry no referrer and are not cached', () => {
    expect(REDIRECT_HEADERS).toEqual({ 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' });
  });
});
