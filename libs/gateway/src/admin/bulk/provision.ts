import { type Actor, BulkProvisionDevices, ContractError } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { HttpFailure, inputFailure } from '../../http/http-errors.js';
import type { BulkReport } from '../schemas.js';
import { bulkReport, planChunks, sendChunks, type UploadRow } from './upload-rows.js';

/** 500 rows with their keys, hashes and audit records: give the registry far longer than a lookup. */
export const CHUNK_TIMEOUT_MS = 60_000;
/** Two chunks in flight keep the registry busy without letting one upload take over the service. */
const CHUNKS_IN_FLIGHT = 2;

/**
 * Sends an upload's rows to the registry in chunks (`BulkProvisionDevices` with `firstRow`) and
 * merges the per-row report. When the registry stops answering, the answer is a 503 problem that
 * still reports every confirmed row: a retry is safe, re-sent rows come back `skipped`.
 */
export async function provisionRows(messaging: ContractClient, tenant: string, actor: Actor, rows: readonly UploadRow[]): Promise<BulkReport> {
  if (!rows.length) throw inputFailure(422, 'the upload has no rows', []);
  const run = await sendChunks(
    planChunks(rows),
    async (chunk) => (await messaging.send(BulkProvisionDevices, { tenant, actor, rows: chunk.rows, firstRow: chunk.firstRow }, { timeoutMs: CHUNK_TIMEOUT_MS })).rows,
    CHUNKS_IN_FLIGHT,
  );
  const report = bulkReport(rows, run.outcomes);
  if (!run.failure) return report;
  const { error } = run.failure;
  // Refused outright before anything was done (e.g. a policy refusal): that answer, not a 503.
  if (!run.outcomes.length && ContractError.is(error) && error.code !== 'unavailable' && error.code !== 'internal') throw error;
  const unconfirmed = rows.length - report.rows.length;
  throw new HttpFailure(503, 'unavailable', `the upload stopped after ${report.rows.length} of ${rows.length} rows: the device registry did not answer. Rows not in this report were not confirmed; send them again (rows already created come back as skipped).`, {
    problem: { ...report, summary: { ...report.summary, unconfirmed } },
  });
}
