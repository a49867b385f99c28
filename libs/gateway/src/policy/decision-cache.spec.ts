import { describe, expect, it } from '@jest/globals';
import type { DecisionInput, DecisionResult } from '@latchkey/contracts';
import { canonicalJson, DecisionCache, MAX_CACHE_SECONDS } from './decision-cache.js';

const input = (overrides: Partial<DecisionInput['subject']> = {}, resourceId = 'd-1'): DecisionInput => ({
  subject: { type: 'client', id: 'demo-service', roles: ['admin'], ...overrides },
  action: { name: 'devices.read' },
  resource: { type: 'device', id: resourceId },
  context: { ip: '127.0.0.1' },
});
const allow = (ttlSeconds?: number): DecisionResult => ({ allow: true, reasons: ['role admin permits devices.read'], policyVersion: 'v', ...(ttlSeconds ? { ttlSeconds } : {}) });

/** A cache on a clock the test moves. */
function cacheAt(start = 1_000_000, maxEntries = 100) {
  const clock = { now: start };
  return { cache: new DecisionCache(maxEntries, () => clock.now), clock };
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves undefined members out', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });
});

describe('DecisionCache', () => {
  it('keys by tenant and input, whatever the order of the members', () => {
    const a = DecisionCache.keyOf('demo', input());
    const reordered = { context: { ip: '127.0.0.1' }, resource: { id: 'd-1', type: 'device' }, action: { name: 'devices.read' }, subject: { roles: ['admin'], id: 'demo-service', type: 'client' } } as DecisionInput;
    expect(DecisionCache.keyOf('demo', reordered)).toBe(a);
    expect(DecisionCache.keyOf('other', input())).not.toBe(a);
    expect(DecisionCache.keyOf('demo', input({}, 'd-2'))).not.toBe(a);
  });

  it('reuses an allow for its ttlSeconds, then asks again', () => {
    const { cache, clock } = cacheAt();
    const key = DecisionCache.keyOf('demo', input());
    expect(cache.remember(key, input(), allow(30))).toBe(true);
    clock.now += 29_999;
    expect(cache.get(key)).toEqual(allow(30));
    clock.now += 1;
    expect(cache.get(key)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never keeps a denial, an allow without ttlSeconds, or a delegated subject’s decision', () => {
    const { cache } = cacheAt();
    const key = DecisionCache.keyOf('demo', input());
    expect(cache.remember(key, input(), { allow: false, reasons: ['no_permission: x'], ttlSeconds: 30, policyVersion: 'v' })).toBe(false);
    expect(cache.remember(key, input(), allow())).toBe(false);
    expect(cache.remember(key, input({ act: { sub: 'bianca' }, gid: 'g' }), allow(30))).toBe(false);
    expect(cache.remember(key, input({ gid: 'g' }), allow(30))).toBe(false);
    expect(cache.size).toBe(0);
  });

  it(`keeps nothing longer than ${MAX_CACHE_SECONDS} s, whatever the policy says`, () => {
    const { cache, clock } = cacheAt();
    const key = DecisionCache.keyOf('demo', input());
    cache.remember(key, input(), allow(86_400));
    clock.now += MAX_CACHE_SECONDS * 1000;
    expect(cache.get(key)).toBeUndefined();
  });

  it('is bounded: when full, the oldest entry goes', () => {
    const { cache } = cacheAt(0, 3);
    const keys = ['a', 'b', 'c', 'd'].map((id) => DecisionCache.keyOf('demo', input({}, id)));
    keys.forEach((key, i) => cache.remember(key, input({}, String(i)), allow(60)));
    expect(cache.size).toBe(3);
    expect(cache.get(keys[0]!)).toBeUndefined();
    expect(cache.get(keys[3]!)).toBeDefined();
  });
});
