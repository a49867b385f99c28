// `latchkey devices import`: reads a CSV or JSON file, sends it to the admin API's bulk endpoint in
// chunks, and merges the per-row reports. A chunk that fails with 503 or a network error is sent
// again: rows that were already created come back `skipped`, so a retry never duplicates a device.
import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ProgressBar } from './progress-bar.mjs';

const RETRIES = 5;

/** Splits the file into chunks the bulk endpoint accepts, each with its first row's number. */
export function chunksOf(text, fileName, chunkRows) {
  const trimmed = text.trimStart();
  if (fileName.endsWith('.json') || trimmed.startsWith('[') || trimmed.startsWith('{')) {
    const document = JSON.parse(text);
    const rows = Array.isArray(document) ? document : document?.devices;
    if (!Array.isArray(rows)) throw new Error('a JSON file must hold an array of devices (or { "devices": [...] })');
    const chunks = [];
    for (let first = 0; first < rows.length; first += chunkRows) {
      chunks.push({ firstRow: first, rowCount: Math.min(chunkRows, rows.length - first), contentType: 'application/json', body: JSON.stringify(rows.slice(first, first + chunkRows)) });
    }
    return { rows: rows.length, chunks };
  }
  // CSV: records are parsed here only to split at record boundaries (a quoted cell may hold a line
  // break); each chunk is re-serialised with the header, so the gateway's column mapping is the only one.
  const records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true });
  if (records.length === 0) throw new Error('the CSV file is empty');
  const [header, ...rows] = records;
  const chunks = [];
  for (let first = 0; first < rows.length; first += chunkRows) {
    const slice = rows.slice(first, first + chunkRows);
    chunks.push({ firstRow: first, rowCount: slice.length, contentType: 'text/csv', body: [header, ...slice].map(toCsvLine).join('\r\n') + '\r\n' });
  }
  return { rows: rows.length, chunks };
}

function toCsvLine(cells) {
  return cells.map((cell) => `"${String(cell).replaceAll('"', '""')}"`).join(',');
}

class AdminApi {
  constructor({ issuer, clientId, clientSecret }) {
    this.issuer = issuer.replace(/\/+$/, '');
    this.basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    this.token = undefined;
  }

  async accessToken(renew = false) {
    if (this.token && !renew) return this.token;
    const response = await fetch(`${this.issuer}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: this.basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'devices:write' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`the token endpoint refused the client: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
    this.token = body.access_token;
    return this.token;
  }

  /** One chunk, retried on 503 / network failures with backoff; a 401 renews the token once. */
  async bulk(chunk) {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetch(`${this.issuer}/admin/v1/devices/bulk`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await this.accessToken()}`, 'content-type': chunk.contentType, accept: 'application/json' },
          body: chunk.body,
        });
      } catch (error) {
        if (attempt >= RETRIES) throw new Error(`cannot reach ${this.issuer}: ${error.cause?.code ?? error.message}`);
        await backoff(attempt);
        continue;
      }
      const body = await response.json().catch(() => undefined);
      if (response.status === 401 && !renewed) {
        renewed = true;
        await this.accessToken(true);
        continue;
      }
      if ((response.status === 503 || response.status === 429) && attempt < RETRIES) {
        await backoff(attempt);
        continue;
      }
      if (!response.ok) throw new Error(`rows ${chunk.firstRow}–${chunk.firstRow + chunk.rowCount - 1} were refused: ${response.status} ${body?.detail ?? body?.title ?? ''}`.trim());
      return body;
    }
  }
}

const backoff = (attempt) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));

export async function importDevices({ issuer, clientId, clientSecret, file, chunkRows = 1000, report, progress = true, output = process.stderr }) {
  const started = performance.now();
  const { rows, chunks } = chunksOf(await readFile(file, 'utf8'), file, chunkRows);
  const api = new AdminApi({ issuer, clientId, clientSecret });
  await api.accessToken();
  const bar = progress ? new ProgressBar(rows, output) : undefined;
  const summary = { rows, created: 0, skipped: 0, rejected: 0 };
  const results = [];
  for (const chunk of chunks) {
    const body = await api.bulk(chunk);
    for (const row of body.rows) {
      summary[row.outcome] += 1;
      results.push({ ...row, row: row.row + chunk.firstRow });
    }
    bar?.update(results.length, summary);
  }
  bar?.done(summary);
  if (report) await writeReport(report, results);
  return { ...summary, elapsedMs: performance.now() - started };
}

async function writeReport(path, rows) {
  if (path.endsWith('.json')) {
    await writeFile(path, `${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const lines = [['row', 'outcome', 'serial', 'deviceId', 'reason', 'claimCode'].join(',')];
  for (const row of rows) lines.push(toCsvLine([row.row, row.outcome, row.serial ?? '', row.deviceId ?? '', row.reason ?? '', row.claimCode?.code ?? '']));
  await writeFile(path, `${lines.join('\r\n')}\r\n`);
}
