import type { BulkReport } from '../schemas.js';

export const REPORT_COLUMNS = ['row', 'outcome', 'serial', 'deviceId', 'reason', 'claimCode', 'claimCodeExpiresAt', 'qrPayload', 'secrets'] as const;

/**
 * A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first: OWASP "CSV
 * injection") gets a leading `'`; a plain number (`-5`) is left alone. Serials are printable ASCII and
 * can start with any of these.
 */
function defused(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && !/^-?\d+(?:\.\d+)?$/.test(text) ? `'${text}` : text;
}

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
function cell(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'number' ? String(value) : defused(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The bulk report as CSV (one line per row, CRLF): `secrets` holds the generated shared secrets as
 * `credentialId=secret` pairs separated by spaces. Like the JSON report it is the only time the claim
 * codes and secrets are shown.
 */
export function reportCsv(report: BulkReport): string {
  const lines = [REPORT_COLUMNS.join(',')];
  for (const row of report.rows) {
    const created = row.outcome === 'created' ? row : undefined;
    const secrets = created?.secrets ? Object.entries(created.secrets).map(([id, secret]) => `${id}=${secret}`).join(' ') : undefined;
    lines.push(
      [row.row, row.outcome, row.serial, 'deviceId' in row ? row.deviceId : undefined, 'reason' in row ? row.reason : undefined, created?.claimCode?.code, created?.claimCode?.expiresAt, created?.claimCode?.qrPayload, secrets]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Whether the client prefers `text/csv` to JSON (RFC 9110 §12.5.1 quality values; exact media types
 * only, `*\/*` means JSON, ties go to JSON).
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let csv = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParameter = parameters.find((parameter) => parameter.startsWith('q='));
    const q = qParameter ? Number(qParameter.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'text/csv') csv = Math.max(csv, q);
    else if (type === 'application/json' || type === '*/*' || type === 'application/*') json = Math.max(json, q);
  }
  return csv > json;
}
