import { describe, expect, it } from '@jest/globals';
import { canonicalJson, sha256Digest } from '../decisions/canonical-json.js';
import { composeOverlay, mergePatch } from './json-merge.js';

describe('JSON merge patch (RFC 7396)', () => {
  it('merges objects, removes on null, replaces the rest', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: [1], e: 'x' }, { a: { c: null, f: 3 }, d: [2], e: { g: 1 } })).toEqual({ a: { b: 1, f: 3 }, d: [2], e: { g: 1 } });
    expect(mergePatch({ a: 1 }, 'scalar')).toBe('scalar');
  });

  it('composes overlays keeping the nulls that remove underlying keys', () => {
    const overlay = composeOverlay({ bindings: { user: { olga: { roles: ['operator'] } } } }, { bindings: { user: { vic: { roles: ['viewer'] } } }, scopes: null });
    expect(overlay).toEqual({ bindings: { user: { olga: { roles: ['operator'] }, vic: { roles: ['viewer'] } } }, scopes: null });
    expect(mergePatch({ scopes: { 'devices:write': {} }, roles: {} }, overlay)).toEqual({ roles: {}, bindings: overlay.bindings });
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members, so equal inputs have one digest', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"z":1}]},"b":1}');
    expect(sha256Digest(canonicalJson({ x: 1, y: 2 }))).toBe(sha256Digest(canonicalJson({ y: 2, x: 1 })));
    expect(sha256Digest('')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
