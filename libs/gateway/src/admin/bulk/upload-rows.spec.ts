import { describe, expect, it } from '@jest/globals';
import { type BulkRowOutcome, ContractError, type RequestContract } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { HttpFailure } from '../../http/http-errors.js';
import { provisionRows } from './provision.js';
import { prefersCsv, reportCsv } from './report-csv.js';
import { bulkReport, jsonRows, planChunks, sendChunks, type UploadRow } from './upload-rows.js';

const ID = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';
const row = (n: number): UploadRow => ({ row: n, value: { serial: `s-${n}`, type: 'sensor' } });
const rejected = (n: number): UploadRow => ({ row: n, rejected: { row: n, outcome: 'rejected', serial: `s-${n}`, reason: 'bad cell' } });
const created = (n: number): BulkRowOutcome => ({ row: n, outcome: 'created', serial: `s-${n}`, deviceId: ID });

describe('jsonRows', () => {
  it('takes an array or { devices }', () => {
    expect(jsonRows([{ a: 1 }, 'x'])).toEqual([
      { row: 0, value: { a: 1 } },
      { row: 1, value: 'x' },
    ]);
    expect(jsonRows({ devices: [{ a: 1 }] })).toEqual([{ row: 0, value: { a: 1 } }]);
  });
  it.each([[{}], [{ devices: [], more: 1 }], [{ devices: 'x' }], ['text'], [null]])('refuses %p with 422', (body) => {
    expect(() => jsonRows(body)).toThrow(expect.objectContaining({ status: 422 }) as unknown as Error);
  });
});

describe('planChunks', () => {
  it('cuts consecutive rows into chunks of the size, and at every rejected row', () => {
    const rows = [row(0), row(1), row(2), rejected(3), row(4), row(5), row(6), row(7), rejected(8)];
    expect(planChunks(rows, 3).map((chunk) => [chunk.firstRow, chunk.rows.length])).toEqual([
      [0, 3],
      [4, 3],
      [7, 1],
    ]);
  });
});

describe('sendChunks', () => {
  it('sends every chunk, at most two at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const chunks = planChunks(Array.from({ length: 10 }, (_, i) => row(i)), 2);
    const run = await sendChunks(chunks, async (chunk) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return chunk.rows.map((_, i) => created(chunk.firstRow + i));
    });
    expect(most).toBe(2);
    expect(run.failure).toBeUndefined();
    expect(run.outcomes.map((o) => o.row).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts no chunk after a failure and reports what was confirmed', async () => {
    const chunks = planChunks(Array.from({ length: 10 }, (_, i) => row(i)), 2);
    const sent: number[] = [];
    const run = await sendChunks(
      chunks,
      async (chunk) => {
        sent.push(chunk.firstRow);
        if (chunk.firstRow === 2) throw new ContractError('unavailable', 'gone');
        return chunk.rows.map((_, i) => created(chunk.firstRow + i));
      },
      1,
    );
    expect(sent).toEqual([0, 2]);
    expect(run.outcomes.map((o) => o.row)).toEqual([0, 1]);
    expect(run.failure?.error).toBeInstanceOf(ContractError);
  });
});

describe('bulkReport', () => {
  it('merges the gateway rejections with the registry outcomes by row and counts them', () => {
    const report = bulkReport([row(0), rejected(1), row(2)], [{ row: 2, outcome: 'skipped', serial: 's-2', deviceId: ID, reason: 'exists' }, created(0)]);
    expect(report.summary).toEqual({ created: 1, skipped: 1, rejected: 1 });
    expect(report.rows.map((r) => [r.row, r.outcome])).toEqual([
      [0, 'created'],
      [1, 'rejected'],
      [2, 'skipped'],
    ]);
  });
});

describe('provisionRows', () => {
  function registry(answer: (request: { rows: unknown[]; firstRow: number }) => BulkRowOutcome[]) {
    const calls: Array<{ firstRow: number; rows: number; timeoutMs: number | undefined }> = [];
    const client = {
      async send(contract: RequestContract, request: { rows: unknown[]; firstRow: number }, options?: { timeoutMs?: number }) {
        contract.request.parse(request);
        calls.push({ firstRow: request.firstRow, rows: request.rows.length, timeoutMs: options?.timeoutMs });
        return { rows: answer(request) };
      },
    } as unknown as ContractClient;
    return { client, calls };
  }
  const actor = { type: 'client', id: 'demo-service' } as const;

  it('sends valid BulkProvisionDevices chunks of 500 with a long timeout', async () => {
    const rows = Array.from({ length: 1201 }, (_, i) => row(i));
    const { client, calls } = registry(({ rows: chunk, firstRow }) => chunk.map((_, i) => created(firstRow + i)));
    const report = await provisionRows(client, 'demo', actor, rows);
    expect(report.summary).toEqual({ created: 1201, skipped: 0, rejected: 0 });
    expect(calls.map((c) => [c.firstRow, c.rows])).toEqual([
      [0, 500],
      [500, 500],
      [1000, 201],
    ]);
    expect(calls.every((c) => (c.timeoutMs ?? 0) >= 30_000)).toBe(true);
  });

  it('answers 503 with the confirmed rows when the registry stops answering', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => row(i));
    const { client } = registry(({ rows: chunk, firstRow }) => {
      if (firstRow >= 500) throw new ContractError('unavailable', 'no timely reply');
      return chunk.map((_, i) => created(firstRow + i));
    });
    const failure = await provisionRows(client, 'demo', actor, rows).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpFailure);
    const { status, extras } = failure as HttpFailure;
    expect(status).toBe(503);
    expect(extras.problem?.summary).toEqual({ created: 500, skipped: 0, rejected: 0, unconfirmed: 700 });
    expect((extras.problem?.rows as unknown[]).length).toBe(500);
  });

  it('refuses an upload without rows', async () => {
    await expect(provisionRows(registry(() => []).client, 'demo', actor, [])).rejects.toMatchObject({ status: 422 });
  });
});

describe('the CSV report', () => {
  it('has one line per row, quotes what needs it and defuses spreadsheet formulas', () => {
    const csv = reportCsv({
      summary: { created: 1, skipped: 0, rejected: 2 },
      rows: [
        { row: 0, outcome: 'created', serial: 's-0', deviceId: ID, claimCode: { code: 'AAAA-BBBB', expiresAt: '2030-01-01T00:00:00Z', qrPayload: 'https://x/claim?code=AAAA-BBBB' }, secrets: { c1: 'sec' } },
        { row: 1, outcome: 'rejected', serial: '=HYPERLINK("x")', reason: 'bad, really' },
        { row: 2, outcome: 'rejected', serial: null, reason: '-5' },
      ],
    });
    expect(csv.split('\r\n')).toEqual([
      'row,outcome,serial,deviceId,reason,claimCode,claimCodeExpiresAt,qrPayload,secrets',
      `0,created,s-0,${ID},,AAAA-BBBB,2030-01-01T00:00:00Z,https://x/claim?code=AAAA-BBBB,c1=sec`,
      `1,rejected,"'=HYPERLINK(""x"")",,"bad, really",,,,`,
      '2,rejected,,,-5,,,,',
      '',
    ]);
  });

  it.each([
    [undefined, false],
    ['text/csv', true],
    ['application/json', false],
    ['text/csv, application/json', false],
    ['application/json;q=0.5, text/csv', true],
    ['*/*', false],
    ['text/csv;q=0.9, */*;q=0.1', true],
  ])('Accept %p prefers CSV: %p', (accept, csv) => {
    expect(prefersCsv(accept)).toBe(csv);
  });
});
