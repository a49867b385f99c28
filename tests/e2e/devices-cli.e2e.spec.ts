// `latchkey devices import` (tools/cli) against the running platform: a CSV with good and bad rows,
// sent in several chunks, with the progress output, the exit status and the per-row report.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, postForm, startE2eEnvironment } from './support/platform.js';

let env: E2eEnvironment;
let dir: string;

beforeAll(async () => {
  env = await startE2eEnvironment();
  dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
}, 90_000);

afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'tools', 'cli', 'latchkey.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('latchkey devices import', () => {
  it('case=should import a CSV in chunks, report every row, and skip the good rows when run again', async () => {
    const prefix = `cli-${Date.now()}`;
    const csv = [
      'serial,type,model,attr.site,claimCode',
      `${prefix}-1,bike-lock,Latch One,north,false`,
      `${prefix}-2,bike-lock,"Latch One, rev. B",south,true`,
      `${prefix}-3,NOT A TYPE,Latch One,north,false`,
      `${prefix}-1,bike-lock,Latch One,north,false`,
      `${prefix}-5,sensor,,east,false`,
    ].join('\n');
    const file = join(dir, 'devices.csv');
    writeFileSync(file, `${csv}\n`);
    const report = join(dir, 'report.csv');
    const args = ['devices', 'import', '--issuer', env.platform.issuer('demo'), '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--file', file, '--chunk', '2', '--report', report];

    const first = await runCli(args);
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(/created 3, skipped 1, rejected 1 of 5 rows/);
    // Not a terminal: progress comes as lines, the last at 100%.
    expect(first.stderr).toMatch(/\[#+\] 100% 5\/5 rows/);
    const lines = readFileSync(report, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('row,outcome,serial,deviceId,reason,claimCode');
    const outcomes = lines.slice(1).map((line) => line.split(',').slice(0, 2).map((cell) => cell.replaceAll('"', '')));
    expect(outcomes).toEqual([
      ['0', 'created'],
      ['1', 'created'],
      ['2', 'rejected'],
      ['3', 'skipped'],
      ['4', 'created'],
    ]);
    expect(lines[2]).toMatch(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);

    const token = (await postForm(`${env.platform.issuer('demo')}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read' }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret))).json as { access_token: string };
    const listed = await http(`${env.platform.issuer('demo')}/admin/v1/devices?attr.site=south`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect((listed.json as { items: Array<{ serial: string; model: string }> }).items).toEqual([expect.objectContaining({ serial: `${prefix}-2`, model: 'Latch One, rev. B' })]);

    const again = await runCli([...args.slice(0, -2), '--quiet']);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/created 0, skipped 4, rejected 1 of 5 rows/);
    expect(again.stderr).toBe('');
  });

  it('case=should fail with a clear message and status 1 when the client is refused', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify([{ serial: 'never', type: 'bike-lock' }]));
    const result = await runCli(['devices', 'import', '--issuer', env.platform.issuer('demo'), '--client-id', DEMO_CLIENT.id, '--client-secret', 'wrong', '--file', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the token endpoint refused the client: 401 invalid_client/);
  });
});
