import { BULK_CHUNK_ROWS, BULK_MAX_ROWS, type BulkRowOutcome } from '@latchkey/contracts';
import { HttpFailure, inputFailure } from '../../http/http-errors.js';
import type { BulkReport } from '../schemas.js';

type Rejected = Extract<BulkRowOutcome, { outcome: 'rejected' }>;

/** One row of an upload: a row object for the registry, or one the gateway already rejected. */
export type UploadRow = { row: number; value: unknown; rejected?: undefined } | { row: number; rejected: Rejected; value?: undefined };

/** A JSON upload: an array of rows, or `{ "devices": [...] }`; the registry checks each row. */
export function jsonRows(body: unknown): UploadRow[] {
  const rows = Array.isArray(body) ? body : typeof body === 'object' && body !== null && Object.keys(body).length === 1 && Array.isArray((body as { devices?: unknown }).devices) ? (body as { devices: unknown[] }).devices : undefined;
  if (!rows) throw inputFailure(422, 'the body must be an array of devices or { "devices": [...] }', [{ pointer: '', detail: 'expected an array or an object with only "devices"' }]);
  if (rows.length > BULK_MAX_ROWS) throw new HttpFailure(413, 'invalid_request', `at most ${BULK_MAX_ROWS} rows per upload`);
  return rows.map((value, row) => ({ row, value }));
}

/** A request to the registry: consecutive rows, numbered from `firstRow` within the upload. */
export interface Chunk {
  firstRow: number;
  rows: unknown[];
}

/**
 * Consecutive rows the gateway did not reject, in chunks of at most `size`: a rejected row ends a
 * chunk, so that `firstRow + index` is still each row's number in the whole upload.
 */
export function planChunks(rows: readonly UploadRow[], size = BULK_CHUNK_ROWS): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk | undefined;
  for (const row of rows) {
    if (row.rejected) {
      current = undefined;
      continue;
    }
    if (!current || current.rows.length >= size || current.firstRow + current.rows.length !== row.row) {
      current = { firstRow: row.row, rows: [] };
      chunks.push(current);
    }
    current.rows.push(row.value);
  }
  return chunks;
}

export interface ChunkRun {
  /** The outcomes the registry confirmed. */
  outcomes: BulkRowOutcome[];
  /** Why the run stopped early; absent when every chunk was answered. */
  failure?: { error: unknown };
}

/**
 * Sends the chunks with at most `concurrency` in flight, in order. After the first failure no new
 * chunk starts; the ones in flight finish, so the report says exactly which rows were confirmed.
 */
export async function sendChunks(chunks: readonly Chunk[], send: (chunk: Chunk) => Promise<BulkRowOutcome[]>, concurrency = 2): Promise<ChunkRun> {
  const outcomes: BulkRowOutcome[] = [];
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (!failure && next < chunks.length) {
      const chunk = chunks[next++] as Chunk;
      try {
        outcomes.push(...(await send(chunk)));
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  return failure ? { outcomes, failure } : { outcomes };
}

/** The gateway's rejections and the registry's outcomes, by row, with the counts. */
export function bulkReport(rows: readonly UploadRow[], confirmed: readonly BulkRowOutcome[]): BulkReport {
  const all = [...rows.flatMap((row) => (row.rejected ? [row.rejected] : [])), ...confirmed].sort((a, b) => a.row - b.row);
  const count = (outcome: BulkRowOutcome['outcome']) => all.filter((row) => row.outcome === outcome).length;
  return { summary: { created: count('created'), skipped: count('skipped'), rejected: count('rejected') }, rows: all };
}
