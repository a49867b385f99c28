import { describe, expect, it } from '@jest/globals';
import {
  duePromotions,
  type KeyState,
  pendingKey,
  publishedKeys,
  publishUntil,
  rotationDue,
  rotationTimings,
  signerCacheUntil,
  signingKeyAt,
} from './key-states.js';

const s = 1000;
const min = 60 * s;
const active = (kid: string, activatesAt: number): KeyState => ({ kid, status: 'active', activatesAt, publishUntil: null });
const next = (kid: string, activatesAt: number): KeyState => ({ kid, status: 'next', activatesAt, publishUntil: null });
const retired = (kid: string, activatesAt: number, until: number): KeyState => ({ kid, status: 'retired', activatesAt, publishUntil: until });

describe('signing key states', () => {
  const t0 = 1_000_000 * s;

  it('signs with the active key while the next key waits for its activation instant', () => {
    const keys = [active('old', t0 - 10 * min), next('new', t0 + 2 * min)];
    expect(signingKeyAt(keys, t0)?.kid).toBe('old');
    expect(signingKeyAt(keys, t0 + 2 * min - 1)?.kid).toBe('old');
    expect(pendingKey(keys, t0)?.kid).toBe('new');
    expect(duePromotions(keys, t0)).toEqual([]);
  });

  it('signs with the next key from its activation instant on, even before its row is promoted', () => {
    const keys = [active('old', t0 - 10 * min), next('new', t0 + 2 * min)];
    expect(signingKeyAt(keys, t0 + 2 * min)?.kid).toBe('new');
    expect(pendingKey(keys, t0 + 2 * min)).toBeNull();
    expect(duePromotions(keys, t0 + 2 * min).map((key) => key.kid)).toEqual(['new']);
  });

  it('never signs with a retired key, and has no signer before any key activates', () => {
    expect(signingKeyAt([retired('old', t0 - min, t0 + min)], t0)).toBeNull();
    expect(signingKeyAt([next('new', t0 + min)], t0)).toBeNull();
  });

  it('publishes next and active keys, and retired keys only until publishUntil', () => {
    const keys = [retired('gone', t0 - 60 * min, t0 - 1), retired('old', t0 - 30 * min, t0 + 10 * min), active('cur', t0 - 5 * min), next('new', t0 + min)];
    expect(publishedKeys(keys, t0).map((key) => key.kid)).toEqual(['old', 'cur', 'new']);
    expect(publishedKeys(keys, t0 + 10 * min).map((key) => key.kid)).toEqual(['cur', 'new']);
  });

  it('keeps a retired key published for the longest token lifetime plus the clock-skew margin', () => {
    expect(publishUntil(t0, 3600, 5 * min)).toBe(t0 + 3600 * s + 5 * min);
  });

  it('caches a signer no longer than the maximum, and never past a pending activation', () => {
    expect(signerCacheUntil([active('cur', t0 - min)], t0, 30 * s)).toBe(t0 + 30 * s);
    expect(signerCacheUntil([active('cur', t0 - min), next('new', t0 + 10 * s)], t0, 30 * s)).toBe(t0 + 10 * s);
    // A due next key is not pending: the reader signs with it (after promoting it).
    expect(signerCacheUntil([active('cur', t0 - min), next('new', t0 - 1)], t0, 30 * s)).toBe(t0 + 30 * s);
  });

  it('makes a scheduled rotation due after the interval, and not while one is pending', () => {
    const interval = 30 * 24 * 60 * min;
    expect(rotationDue([active('cur', t0)], t0 + interval - 1, interval)).toBe(false);
    expect(rotationDue([active('cur', t0)], t0 + interval, interval)).toBe(true);
    expect(rotationDue([active('cur', t0), next('new', t0 + interval + min)], t0 + interval, interval)).toBe(false);
    expect(rotationDue([], t0, interval)).toBe(false);
  });

  it('caps the signer cache below the propagation delay and refuses negative delays', () => {
    expect(rotationTimings()).toEqual({ propagationDelayMs: 120 * s, clockSkewMs: 5 * min, signerCacheMs: 60 * s });
    expect(rotationTimings({ propagationDelayMs: 10 * s, signerCacheMs: 60 * s }).signerCacheMs).toBe(5 * s);
    expect(rotationTimings({ propagationDelayMs: 0 }).signerCacheMs).toBe(0);
    expect(() => rotationTimings({ propagationDelayMs: -1 })).toThrow();
  });

  it('case=should never let a replica sign with a key before its activation, and switch every replica at it', () => {
    // Replicas re-read the keys whenever their cached signer expires, at arbitrary instants around a
    // rotation created at `rotatedAt`: whatever their phase, they sign with the old key up to the
    // activation instant and with the new one from it on.
    const { propagationDelayMs, signerCacheMs } = rotationTimings({ propagationDelayMs: 60 * s });
    const rotatedAt = t0;
    const activatesAt = rotatedAt + propagationDelayMs;
    const before = [active('old', t0 - 60 * min)];
    const after = [active('old', t0 - 60 * min), next('new', activatesAt)];
    const keysAt = (time: number) => (time < rotatedAt ? before : after);
    for (let phase = 0; phase < signerCacheMs; phase += 997) {
      let cache: { kid: string; until: number } | null = null;
      for (let now = t0 - 2 * signerCacheMs + phase; now < activatesAt + 2 * signerCacheMs; now += 250) {
        if (!cache || now >= cache.until) {
          const keys = keysAt(now);
          cache = { kid: signingKeyAt(keys, now)!.kid, until: signerCacheUntil(keys, now, signerCacheMs) };
        }
        expect([now, cache.kid]).toEqual([now, now < activatesAt ? 'old' : 'new']);
      }
    }
  });
});
