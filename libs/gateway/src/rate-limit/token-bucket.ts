/** A token-bucket limit: `burst` requests at once, refilled at `ratePerSecond`. */
export interface BucketLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export type TakeResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (clock milliseconds). */
  updatedAt: number;
  limit: BucketLimit;
}

export interface TokenBucketsOptions {
  /** Milliseconds; injectable for tests. */
  readonly clock?: () => number;
  /** Most buckets kept; beyond it, full (idle) buckets go first, then the least recently used. */
  readonly maxBuckets?: number;
}

/**
 * Token buckets by key, in memory (one set per process, so per gateway replica). Pure apart from the
 * clock. A bucket that has refilled completely is the same as no bucket, so idle buckets are dropped
 * without changing any answer; memory stays bounded by `maxBuckets` even under many distinct keys.
 */
export class TokenBuckets {
  private readonly clock: () => number;
  private readonly maxBuckets: number;
  /** In least-recently-used order (a Map iterates in insertion order; a hit re-inserts). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.maxBuckets = Math.max(1, options.maxBuckets ?? 10_000);
  }

  /** Takes one token from `key`'s bucket, or says in how many whole seconds one will be there. */
  take(key: string, limit: BucketLimit): TakeResult {
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      refill(bucket, now);
      if (bucket.limit.ratePerSecond !== limit.ratePerSecond || bucket.limit.burst !== limit.burst) {
        bucket.tokens = Math.min(bucket.tokens, limit.burst);
        bucket.limit = limit;
      }
    } else {
      this.evict(now);
      bucket = { tokens: limit.burst, updatedAt: now, limit };
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitMs = ((1 - bucket.tokens) / limit.ratePerSecond) * 1000;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** How many buckets are held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Makes room for one more bucket. */
  private evict(now: number): void {
    if (this.buckets.size < this.maxBuckets) return;
    for (const [key, bucket] of this.buckets) {
      refill(bucket, now);
      if (bucket.tokens >= bucket.limit.burst) this.buckets.delete(key);
    }
    while (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }
}

function refill(bucket: Bucket, now: number): void {
  const elapsedMs = Math.max(0, now - bucket.updatedAt);
  bucket.tokens = Math.min(bucket.limit.burst, bucket.tokens + (elapsedMs / 1000) * bucket.limit.ratePerSecond);
  bucket.updatedAt = now;
}
