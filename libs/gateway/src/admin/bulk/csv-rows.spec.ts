import { describe, expect, it } from '@jest/globals';
import { BULK_MAX_ROWS } from '@latchkey/contracts';
import { HttpFailure } from '../../http/http-errors.js';
import { csvRows } from './csv-rows.js';

const JWK = { kty: 'EC', crv: 'P-256', x: 'ui8EZ6TNw0SQfTb9NFrKdvfnS-5O6ScXuyxexP8NJYA', y: 'toUxlvRPzWKrlrC0b2zQW12wb6pJaVpcJU8Tx0KoIDc' };
const THUMBPRINT = 'a'.repeat(43);

function thrown(run: () => unknown): HttpFailure {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpFailure);
    return error as HttpFailure;
  }
  throw new Error('expected a failure');
}

describe('csvRows', () => {
  it('maps every column, numbering rows from 0 = the first data row', () => {
    const csv = [
      'serial,type,model,firmwareVersion,location,ownerId,activate,claimCode,secret,jwk,x509Thumbprint,reason,attr.site,attr.floor,attr.code',
      `lock-1,bike-lock,Latch One,1.2.3,Berlin,user-1,yes,no,1,"${JSON.stringify(JWK).replace(/"/g, '""')}",${THUMBPRINT},"first, batch",berlin,3,"""007"""`,
      'sensor-1,sensor,,,,,,TRUE,,,,,,,',
    ].join('\r\n');
    expect(csvRows(csv)).toEqual([
      {
        row: 0,
        value: {
          serial: 'lock-1',
          type: 'bike-lock',
          model: 'Latch One',
          firmwareVersion: '1.2.3',
          location: 'Berlin',
          ownerId: 'user-1',
          activate: true,
          claimCode: false,
          reason: 'first, batch',
          attributes: { site: 'berlin', floor: 3, code: '007' },
          credentials: [{ kind: 'secret' }, { kind: 'jwk', jwk: JWK }, { kind: 'x509', thumbprint: THUMBPRINT }],
        },
      },
      { row: 1, value: { serial: 'sensor-1', type: 'sensor', claimCode: true } },
    ]);
  });

  it('treats empty and blank cells as absent, ignores blank lines, a BOM and spaces around cells', () => {
    expect(csvRows('\uFEFF serial , type \n\n  s-1 ,  sensor \n\n')).toEqual([{ row: 0, value: { serial: 's-1', type: 'sensor' } }]);
  });

  it('keeps a stray quote inside an unquoted cell and reads quoted line breaks (RFC 4180)', () => {
    expect(csvRows('serial,type,location\nab"c,sensor,"Hall 1\nDoor 2"\n')).toEqual([{ row: 0, value: { serial: 'ab"c', type: 'sensor', location: 'Hall 1\nDoor 2' } }]);
  });

  it('rejects, with its row number, a row it cannot turn into a row object; the other rows stay', () => {
    const rows = csvRows(['serial,type,activate,jwk', 'ok-1,sensor,,', 'short,sensor', 'bad-flag,sensor,perhaps,', 'bad-jwk,sensor,,{not json', ',sensor,,[1]', 'ok-2,sensor,no,'].join('\n'));
    expect(rows.map((row) => (row.rejected ? { row: row.row, serial: row.rejected.serial, reason: row.rejected.reason } : { row: row.row }))).toEqual([
      { row: 0 },
      { row: 1, serial: 'short', reason: 'the row has 2 cells, the header 4' },
      { row: 2, serial: 'bad-flag', reason: 'activate must be true or false (yes/no, 1/0)' },
      { row: 3, serial: 'bad-jwk', reason: 'jwk must be a JSON object (a public JWK)' },
      { row: 4, serial: null, reason: 'jwk must be a JSON object (a public JWK)' },
      { row: 5 },
    ]);
    expect(rows[1]?.rejected?.outcome).toBe('rejected');
  });

  it('refuses the whole upload for an unknown, duplicate or missing column', () => {
    const failure = thrown(() => csvRows('serial,typ,serial,attr.bad/name\nx,y,z,w\n'));
    expect(failure.status).toBe(422);
    expect(failure.message).toContain('unknown column typ');
    expect(failure.message).toContain('column serial appears twice');
    expect(failure.message).toContain('unknown column attr.bad/name');
    expect(failure.message).toContain('the column type is required');
  });

  it('refuses a file whose quote never closes (it cannot tell where rows are)', () => {
    const failure = thrown(() => csvRows('serial,type\n"lock-1,sensor\nlock-2,sensor\n'));
    expect(failure.status).toBe(400);
    expect(failure.message).toMatch(/line \d+/);
  });

  it('refuses an empty file and more rows than the limit', () => {
    expect(thrown(() => csvRows('')).status).toBe(422);
    const many = `serial,type\n${Array.from({ length: BULK_MAX_ROWS + 1 }, (_, i) => `s-${i},sensor`).join('\n')}`;
    const failure = thrown(() => csvRows(many));
    expect(failure.status).toBe(413);
    expect(failure.message).toBe(`at most ${BULK_MAX_ROWS} rows per upload`);
    expect(csvRows(`serial,type\n${Array.from({ length: BULK_MAX_ROWS }, (_, i) => `s-${i},sensor`).join('\n')}`)).toHaveLength(BULK_MAX_ROWS);
  });
});
