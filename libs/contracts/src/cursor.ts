import { ContractError } from './errors.js';
import { z } from 'zod';

/**
 * Keyset cursors: the sort key of the last item of a page, opaque to the caller (base64url JSON), so
 * that a page follows exactly where the previous one ended however many items are added meanwhile. Each service declares
 * the shape of its own keys and decodes with it.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string, shape: S): z.output<S> {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // Not JSON: the same answer as a well-formed but wrong key.
  }
  throw new ContractError('invalid_request', 'the cursor is not valid');
}
