import { createHash } from 'node:crypto';
import type { DecisionInput, DecisionResult } from '@latchkey/contracts';
import { isDelegatedSubject } from './decision-input.js';

/** JSON with every object's keys sorted and undefined members left out: one text per input. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(',')}}`;
}

/** The longest the gateway reuses an allow, whatever a policy says (a role removed takes effect within it). */
export const MAX_CACHE_SECONDS = 300;
export const DEFAULT_CACHE_ENTRIES = 10_000;

/**
 * Allow decisions the decision point said may be reused (`ttlSeconds`), for exactly the same input
 * (keyed by the SHA-256 of its canonical JSON, tenant included). Never a denial, never a delegated
 * subject's decision (its grant depends on the clock), never longer than asked nor than 5 minutes.
 * Bounded: when full, the oldest entry goes. Per process, nothing shared: a replica asks on its own.
 */
export class DecisionCache {
  private readonly entries = new Map<string, { result: DecisionResult; expiresAt: number }>();

  constructor(
    private readonly maxEntries = DEFAULT_CACHE_ENTRIES,
    private readonly clock: () => number = Date.now,
  ) {}

  static keyOf(tenant: string, input: DecisionInput): string {
    return createHash('sha256').update(canonicalJson({ tenant, input })).digest('base64url');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): DecisionResult | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.result;
  }

  /** Keeps `result` when the rules allow it; says whether it did. */
  remember(key: string, input: DecisionInput, result: DecisionResult): boolean {
    if (!result.allow || !result.ttlSeconds || result.ttlSeconds <= 0 || isDelegatedSubject(input.subject)) return false;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { result, expiresAt: this.clock() + Math.min(result.ttlSeconds, MAX_CACHE_SECONDS) * 1000 });
    return true;
  }

  clear(): void {
    this.entries.clear();
  }
}
