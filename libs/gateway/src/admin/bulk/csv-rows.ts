import { BULK_MAX_ROWS } from '@latchkey/contracts';
import { parse } from 'csv-parse/sync';
import { HttpFailure, inputFailure, type InputIssue } from '../../http/http-errors.js';
import { ATTRIBUTE_NAME, attributeValue, booleanOf } from '../values.js';
import type { UploadRow } from './upload-rows.js';

// The CSV mapping of bulk provisioning (documented in the OpenAPI description of the operation):
//
//   serial, type                                   required columns
//   model, firmwareVersion, location, ownerId, reason   text
//   activate, claimCode                            true/false, yes/no, 1/0 (any case)
//   secret                                         yes → a generated shared secret credential
//   jwk                                            a public JWK as JSON → a `jwk` credential
//   x509Thumbprint                                 → an `x509` credential
//   attr.<name>                                    an attribute, typed like the list filter (values.ts)
//
// Cells are trimmed and an empty cell is absent. Any other column refuses the whole upload (a typo in a
// header must not silently drop a field from 10,000 devices). A row that cannot be turned into a row
// object (wrong number of cells, a bad yes/no, a jwk that is not a JSON object) is rejected by the
// gateway with its row number; the registry validates the rest of each row.

const TEXT_COLUMNS = ['serial', 'type', 'model', 'firmwareVersion', 'location', 'ownerId', 'reason'] as const;
const FLAG_COLUMNS = ['activate', 'claimCode'] as const;
const REQUIRED = ['serial', 'type'] as const;
const ATTRIBUTE_PREFIX = 'attr.';

type Column = { kind: 'text' | 'flag'; field: string } | { kind: 'secret' | 'jwk' | 'x509' } | { kind: 'attribute'; name: string };

function columnOf(name: string): Column | undefined {
  if ((TEXT_COLUMNS as readonly string[]).includes(name)) return { kind: 'text', field: name };
  if ((FLAG_COLUMNS as readonly string[]).includes(name)) return { kind: 'flag', field: name };
  if (name === 'secret') return { kind: 'secret' };
  if (name === 'jwk') return { kind: 'jwk' };
  if (name === 'x509Thumbprint') return { kind: 'x509' };
  if (name.startsWith(ATTRIBUTE_PREFIX) && ATTRIBUTE_NAME.test(name.slice(ATTRIBUTE_PREFIX.length))) return { kind: 'attribute', name: name.slice(ATTRIBUTE_PREFIX.length) };
  return undefined;
}

/** The header row → one column per cell; every problem of the header at once. */
function columnsOf(header: readonly string[]): Column[] {
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  const columns = header.map((raw, index) => {
    const name = raw.trim();
    if (seen.has(name)) issues.push({ pointer: `/header/${index}`, detail: `column ${name || '(empty)'} appears twice` });
    seen.add(name);
    const column = columnOf(name);
    if (!column) issues.push({ pointer: `/header/${index}`, detail: `unknown column ${name || '(empty)'}${name.startsWith(ATTRIBUTE_PREFIX) ? ' (attribute names use A-Z a-z 0-9 _ . : -)' : ''}` });
    return column;
  });
  for (const required of REQUIRED) if (!seen.has(required)) issues.push({ pointer: '/header', detail: `the column ${required} is required` });
  if (issues.length) throw inputFailure(422, `the CSV header is not valid: ${issues.map((issue) => issue.detail).join('; ')}`, issues);
  return columns as Column[];
}

class CellError extends Error {}

/** One data record → a row object for the registry; throws CellError for what cannot be mapped. */
function rowOf(columns: readonly Column[], cells: readonly string[]): Record<string, unknown> {
  if (cells.length !== columns.length) throw new CellError(`the row has ${cells.length} cells, the header ${columns.length}`);
  const row: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  const credentials: unknown[] = [];
  columns.forEach((column, index) => {
    const value = (cells[index] ?? '').trim();
    if (value === '') return;
    switch (column.kind) {
      case 'text':
        row[column.field] = value;
        return;
      case 'flag': {
        const flag = booleanOf(value);
        if (flag === undefined) throw new CellError(`${column.field} must be true or false (yes/no, 1/0)`);
        row[column.field] = flag;
        return;
      }
      case 'secret': {
        const flag = booleanOf(value);
        if (flag === undefined) throw new CellError('secret must be true or false (yes/no, 1/0)');
        if (flag) credentials.push({ kind: 'secret' });
        return;
      }
      case 'jwk': {
        let jwk: unknown;
        try {
          jwk = JSON.parse(value);
        } catch {
          jwk = undefined;
        }
        if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new CellError('jwk must be a JSON object (a public JWK)');
        credentials.push({ kind: 'jwk', jwk });
        return;
      }
      case 'x509':
        credentials.push({ kind: 'x509', thumbprint: value });
        return;
      case 'attribute':
        attributes[column.name] = attributeValue(value);
        return;
    }
  });
  if (Object.keys(attributes).length) row.attributes = attributes;
  if (credentials.length) row.credentials = credentials;
  return row;
}

/**
 * A CSV upload → its rows, numbered from 0 = the first data record after the header (blank lines are
 * not records). Quotes follow RFC 4180; a stray quote inside an unquoted cell is kept as a character.
 * A quote that never closes swallows the rest of the file, so it refuses the whole upload: guessing
 * where the rows were could create wrong devices.
 */
export function csvRows(text: string): UploadRow[] {
  let records: string[][];
  try {
    // `to`: stop reading one record past the limit; that is enough to refuse the upload.
    records = parse(text, { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, to: BULK_MAX_ROWS + 2 }) as string[][];
  } catch (error) {
    const line = (error as { lines?: unknown }).lines;
    throw inputFailure(400, `the CSV cannot be read${typeof line === 'number' ? ` (at line ${line})` : ''}: check its quotes`, [{ pointer: '/', detail: 'malformed CSV' }]);
  }
  const [header, ...data] = records;
  if (!header) throw inputFailure(422, 'the CSV is empty: it needs a header row and at least one row', []);
  const columns = columnsOf(header);
  if (data.length > BULK_MAX_ROWS) throw new HttpFailure(413, 'invalid_request', `at most ${BULK_MAX_ROWS} rows per upload`);
  const serialAt = header.findIndex((name) => name.trim() === 'serial');
  return data.map((cells, index): UploadRow => {
    try {
      return { row: index, value: rowOf(columns, cells) };
    } catch (error) {
      if (!(error instanceof CellError)) throw error;
      const serial = (cells[serialAt] ?? '').trim();
      return { row: index, rejected: { row: index, outcome: 'rejected', serial: serial || null, reason: error.message } };
    }
  });
}
