import { describe, expect, it } from '@jest/globals';
import { escapeHtml, Html, html, inlineStyle, isHtml, join, ownUrl, render } from './html.js';

describe('html``', () => {
  it('escapes interpolated text: a script tag stays text', () => {
    const name = '<script>alert(1)</script>';
    expect(render(html`<p>${name}</p>`)).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('escapes quotes so a value cannot break out of an attribute', () => {
    const value = `" autofocus onfocus="alert(1)`;
    const single = `' onmouseover='alert(1)`;
    const out = render(html`<input value="${value}"><input value='${single}'>`);
    expect(out).toBe('<input value="&quot; autofocus onfocus=&quot;alert(1)"><input value=\'&#39; onmouseover=&#39;alert(1)\'>');
    expect(out).not.toMatch(/onfocus="/);
  });

  it('escapes ampersands (no entity smuggling) and leaves the builder\'s own Html alone', () => {
    const inner = html`<b>${'&lt;'}</b>`;
    expect(render(html`<p>${inner}</p>`)).toBe('<p><b>&amp;lt;</b></p>');
  });

  it('renders arrays item by item and nothing for null, undefined and false', () => {
    const items = ['<a>', html`<i>b</i>`];
    expect(render(html`${items}|${null}|${undefined}|${false}|${0}`)).toBe('&lt;a&gt;<i>b</i>||||0');
  });

  it('refuses an interpolation in an unquoted attribute value', () => {
    const evil = 'x onmouseover=alert(1)';
    expect(() => html`<input value=${evil}>`).toThrow(/quote attribute values/);
  });

  it('refuses values it cannot render safely (objects, true, functions)', () => {
    const bad = [{ toString: () => '<script>' }, true, () => 'x', Symbol('s'), Number.NaN] as unknown[];
    for (const value of bad) expect(() => html`<p>${value as string}</p>`).toThrow(TypeError);
  });

  it('cannot be forged: an Html can only come from the builder', () => {
    expect(() => new Html(Symbol('latchkey.html.trusted'), '<script>')).toThrow(TypeError);
    const lookalike = { toString: () => '<script>alert(1)</script>' };
    expect(isHtml(lookalike)).toBe(false);
    expect(isHtml(html`x`)).toBe(true);
  });

  it('join escapes its parts and separator', () => {
    expect(render(join(['<a>', html`<b></b>`], ' & '))).toBe('&lt;a&gt; &amp; <b></b>');
  });

  it('escapeHtml covers the five significant characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('inlineStyle', () => {
  it('keeps CSS as raw text, so its hash is the hash of the string', () => {
    expect(render(inlineStyle('a>b{font-family:"X"}'))).toBe('<style>a>b{font-family:"X"}</style>');
  });

  it('refuses anything that could close the element', () => {
    expect(() => inlineStyle('a{}</style><script>alert(1)</script>')).toThrow(TypeError);
  });
});

describe('ownUrl', () => {
  it('accepts path-absolute URLs of this server', () => {
    expect(ownUrl('/t/demo/login?interaction=abc')).toBe('/t/demo/login?interaction=abc');
  });

  it.each(['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>', '//evil.example/x', '/\\evil.example', 'https://evil.example/', '/t/demo\nx', ' /t/demo', 'login', ''])(
    'refuses %j',
    (url) => {
      expect(() => ownUrl(url)).toThrow(TypeError);
    },
  );
});
