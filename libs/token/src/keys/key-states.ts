/**
 * The life of a tenant's signing keys as pure functions of the stored rows and a clock, so that every
 * rule can be tested without a database (docs/adr/0010-signing-key-rotation.md):
 *
 *   next ──(activatesAt reached)──▶ active ──(successor activates)──▶ retired ──(publishUntil)──▶ gone
 *
 * - `next`: published in the JWKS, does not sign before `activatesAt`.
 * - `active`: signs. A `next` key whose `activatesAt` has come is treated as the signer even before its
 *   row is promoted, so a late or failed promotion never keeps an old key signing.
 * - `retired`: published until `publishUntil` (retirement + longest token lifetime + clock-skew margin).
 */

export const KEY_STATUSES = ['next', 'active', 'retired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export interface KeyState {
  kid: string;
  status: KeyStatus | string;
  /** When the key starts or started to sign (epoch ms). */
  activatesAt: number;
  /** Retired keys only: when it leaves the JWKS (epoch ms). */
  publishUntil: number | null;
}

/** The key that signs at `now`: the most recently activated `active` or due `next` key. */
export function signingKeyAt<K extends KeyState>(keys: readonly K[], now: number): K | null {
  let best: K | null = null;
  for (const key of keys) {
    if (key.status !== 'active' && key.status !== 'next') continue;
    if (key.activatesAt > now) continue;
    if (!best || key.activatesAt > best.activatesAt) best = key;
  }
  return best;
}

/** The `next` key that has not reached its activation instant yet, if a rotation is pending. */
export function pendingKey<K extends KeyState>(keys: readonly K[], now: number): K | null {
  let pending: K | null = null;
  for (const key of keys) {
    if (key.status === 'next' && key.activatesAt > now && (!pending || key.activatesAt < pending.activatesAt)) pending = key;
  }
  return pending;
}

/** `next` keys whose activation instant has come but whose rows still say `next`. */
export function duePromotions<K extends KeyState>(keys: readonly K[], now: number): K[] {
  return keys.filter((key) => key.status === 'next' && key.activatesAt <= now);
}

/** The keys a JWKS shows at `now`: pending and active keys, and retired keys still published. */
export function publishedKeys<K extends KeyState>(keys: readonly K[], now: number): K[] {
  return keys.filter((key) => key.status === 'next' || key.status === 'active' || (key.status === 'retired' && key.publishUntil !== null && key.publishUntil > now));
}

/**
 * Until when a signer read at `readAt` may be reused without reading the keys again: never past the
 * activation of a pending key (the replica switches exactly then) and never longer than `maxCacheMs`.
 * A rotation committed after the read is seen at the next read; `maxCacheMs` must therefore be shorter
 * than the propagation delay, which `rotationTimings` guarantees.
 */
export function signerCacheUntil(keys: readonly KeyState[], readAt: number, maxCacheMs: number): number {
  const pending = pendingKey(keys, readAt);
  return Math.min(readAt + maxCacheMs, pending ? pending.activatesAt : Number.POSITIVE_INFINITY);
}

/**
 * Until when a key retired at `retiredAt` stays in the JWKS: a token it signed at the last moment lives
 * `maxTokenLifetimeSeconds`, and verifiers may accept it for a clock-skew margin past its `exp`.
 */
export function publishUntil(retiredAt: number, maxTokenLifetimeSeconds: number, clockSkewMs: number): number {
  return retiredAt + maxTokenLifetimeSeconds * 1000 + clockSkewMs;
}

/** A scheduled rotation is due when nothing is pending and the signing key has signed for `intervalMs`. */
export function rotationDue(keys: readonly KeyState[], now: number, intervalMs: number): boolean {
  if (keys.some((key) => key.status === 'next')) return false;
  const current = signingKeyAt(keys, now);
  return current !== null && current.activatesAt + intervalMs <= now;
}

export interface RotationTimings {
  /** How long a new key is published before it signs (ms). */
  propagationDelayMs: number;
  /** Margin for clocks of verifiers and replicas (ms). */
  clockSkewMs: number;
  /** Longest reuse of a cached signer (ms); always below the propagation delay. */
  signerCacheMs: number;
}

export const DEFAULT_PROPAGATION_DELAY_MS = 120_000;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
export const MAX_SIGNER_CACHE_MS = 60_000;

/** Fills in defaults and enforces the one relation correctness depends on (cache < propagation delay). */
export function rotationTimings(options: Partial<RotationTimings> = {}): RotationTimings {
  const propagationDelayMs = options.propagationDelayMs ?? DEFAULT_PROPAGATION_DELAY_MS;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (!(propagationDelayMs >= 0) || !(clockSkewMs >= 0)) throw new Error('key rotation delays must be non-negative numbers');
  const ceiling = Math.min(MAX_SIGNER_CACHE_MS, Math.floor(propagationDelayMs / 2));
  const signerCacheMs = Math.max(0, Math.min(options.signerCacheMs ?? ceiling, ceiling));
  return { propagationDelayMs, clockSkewMs, signerCacheMs };
}
