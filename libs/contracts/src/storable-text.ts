import { ContractError } from './errors.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * PostgreSQL stores no NUL character in text or JSONB, and JSONB no unpaired UTF-16 surrogate: such a
 * value is refused here, as `validation_failed`, rather than failing the insert as an internal error.
 */
export function assertStorable(value: unknown): void {
  if (!isStorable(value)) throw new ContractError('validation_failed', 'text may not contain NUL characters or unpaired surrogates');
}

export function isStorable(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.every(isStorable);
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([key, member]) => isStorable(key) && isStorable(member));
  return true;
}
