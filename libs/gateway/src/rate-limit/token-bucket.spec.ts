import { describe, expect, it } from '@jest/globals';
import { TokenBuckets } from './token-bucket.js';

function clocked(maxBuckets?: number) {
  const time = { now: 1_000_000 };
  const buckets = new TokenBuckets({ clock: () => time.now, ...(maxBuckets !== undefined ? { maxBuckets } : {}) });
  return { time, buckets };
}

const limit = { ratePerSecond: 2, burst: 3 };

describe('TokenBuckets', () => {
  it('allows a burst, then refuses with the seconds until the next token (rounded up)', () => {
    const { buckets } = clocked();
    for (let i = 0; i < 3; i++) expect(buckets.take('a', limit)).toEqual({ allowed: true });
    expect(buckets.take('a', limit)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(buckets.take('a', { ratePerSecond: 1, burst: 3 })).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('rounds the wait up to whole seconds', () => {
    const { time, buckets } = clocked();
    const slow = { ratePerSecond: 0.4, burst: 1 };
    expect(buckets.take('a', slow)).toEqual({ allowed: true });
    expect(buckets.take('a', slow)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    time.now += 2000;
    expect(buckets.take('a', slow)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time.now += 500;
    expect(buckets.take('a', slow)).toEqual({ allowed: true });
  });

  it('refills at the rate, never beyond the burst', () => {
    const { time, buckets } = clocked();
    for (let i = 0; i < 3; i++) buckets.take('a', limit);
    time.now += 499;
    expect(buckets.take('a', limit).allowed).toBe(false);
    time.now += 1;
    expect(buckets.take('a', limit).allowed).toBe(true);
    time.now += 60_000;
    for (let i = 0; i < 3; i++) expect(buckets.take('a', limit).allowed).toBe(true);
    expect(buckets.take('a', limit).allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    const { buckets } = clocked();
    for (let i = 0; i < 3; i++) buckets.take('a', limit);
    expect(buckets.take('a', limit).allowed).toBe(false);
    expect(buckets.take('b', limit).allowed).toBe(true);
  });

  it('ignores a clock that goes backwards', () => {
    const { time, buckets } = clocked();
    for (let i = 0; i < 3; i++) buckets.take('a', limit);
    time.now -= 10_000;
    expect(buckets.take('a', limit).allowed).toBe(false);
  });

  it('bounds memory: idle (full) buckets go first, then the least recently used', () => {
    const { time, buckets } = clocked(2);
    for (let i = 0; i < 3; i++) buckets.take('busy', limit);
    buckets.take('idle', { ratePerSecond: 10, burst: 3 });
    time.now += 200; // 'idle' is full again, 'busy' is not
    buckets.take('new', limit);
    expect(buckets.size).toBe(2);
    // 'busy' kept its state: still limited.
    expect(buckets.take('busy', limit).allowed).toBe(false);
    // Nothing idle now: the least recently used ('new') makes room.
    buckets.take('newer', limit);
    expect(buckets.size).toBe(2);
    expect(buckets.take('busy', limit).allowed).toBe(false);
  });
});
