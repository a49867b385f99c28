#!/usr/bin/env node
// The Latchkey command line. Today one command: bulk device provisioning from a CSV or JSON file
// through the admin API, in chunks, with a progress bar and a per-row report.
//
//   npm run latchkey -- devices import --issuer http://127.0.0.1:8080/t/demo \
//     --client-id demo-service --client-secret demo-service-secret --file devices.csv [--report report.csv]
//
// Credentials may also come from LATCHKEY_ISSUER, LATCHKEY_CLIENT_ID, LATCHKEY_CLIENT_SECRET.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { importDevices } from './devices-import.mjs';

const USAGE = `usage: latchkey devices import --file <devices.csv|devices.json> [options]

options:
  --issuer <url>          the tenant's issuer, e.g. http://127.0.0.1:8080/t/demo   (env LATCHKEY_ISSUER)
  --client-id <id>        a client with the devices:write scope                    (env LATCHKEY_CLIENT_ID)
  --client-secret <s>     its secret (client_secret_basic)                          (env LATCHKEY_CLIENT_SECRET)
  --file <path>           CSV with a header row (same columns as the admin API) or a JSON array
  --chunk <rows>          rows per request (default 1000, at most 10000)
  --report <path>         write the per-row report (.csv or .json)
  --quiet                 no progress bar

exit status: 0 every row created or skipped as a duplicate, 2 some rows rejected, 1 failure`;

export async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      file: { type: 'string' },
      chunk: { type: 'string' },
      report: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.join(' ') !== 'devices import') {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 1;
  }
  const options = {
    issuer: values.issuer ?? process.env.LATCHKEY_ISSUER,
    clientId: values['client-id'] ?? process.env.LATCHKEY_CLIENT_ID,
    clientSecret: values['client-secret'] ?? process.env.LATCHKEY_CLIENT_SECRET,
    file: values.file,
    chunkRows: values.chunk === undefined ? 1000 : Number(values.chunk),
    report: values.report,
    progress: !values.quiet,
  };
  const missing = ['issuer', 'clientId', 'clientSecret', 'file'].filter((name) => !options[name]);
  if (missing.length) {
    process.stderr.write(`missing: ${missing.join(', ')}\n\n${USAGE}\n`);
    return 1;
  }
  if (!Number.isInteger(options.chunkRows) || options.chunkRows < 1 || options.chunkRows > 10_000) {
    process.stderr.write('--chunk must be a whole number from 1 to 10000\n');
    return 1;
  }
  try {
    const summary = await importDevices(options);
    process.stdout.write(`created ${summary.created}, skipped ${summary.skipped}, rejected ${summary.rejected} of ${summary.rows} rows in ${(summary.elapsedMs / 1000).toFixed(1)} s\n`);
    return summary.rejected > 0 ? 2 : 0;
  } catch (error) {
    process.stderr.write(`latchkey: ${error.message}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
