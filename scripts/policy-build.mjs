#!/usr/bin/env node
// The policy bundles: Rego sources compiled to OPA Wasm bundles (docs/adr/0022-policy-bundles.md).
//
//   npm run policy:build                    compile every bundle below and write the committed files
//   npm run policy:check                    opa fmt / check / test, then rebuild into a temporary folder
//                                           and fail if a committed bundle differs from its sources
//   npm run policy:build -- --src DIR --out FILE
//                                           compile a tenant's own policy (same entrypoint and limits)
//
// Every build uses `opa build -t wasm -e latchkey/authz/decision` with a capabilities file that lists
// only the built-in functions the policy service can run (the Wasm SDK's, plus the time functions it
// implements itself), so a policy using anything else fails here rather than at its first decision.
// `opa` is found or installed by tools/infra/ensure-tools.mjs (OPA_VERSION).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ensureOpa, OPA_VERSION } from '../tools/infra/ensure-tools.mjs';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ENTRYPOINT = 'latchkey/authz/decision';
/** Optional: the data checks the policy service runs before activating data (compiled when the sources define them). */
export const DATA_ERRORS_ENTRYPOINT = 'latchkey/authz/data_errors';

/** Built-in functions the policy service implements itself (libs/policy/src/wasm/host-builtins.ts). */
export const HOST_BUILTINS = ['time.parse_rfc3339_ns', 'time.clock', 'time.weekday'];

/** Not part of a bundle: tests, and what the build writes. */
const IGNORED = ['*_test.rego', 'compiled', 'README.md'];

/**
 * The committed bundles. `embed`: a TypeScript module carrying the same bytes, so that the policy
 * service finds its default bundle in its own dist/ (the container image ships only dist/).
 */
export const BUNDLES = [
  { name: 'default', src: 'policies', out: 'policies/compiled/latchkey-authz.tar.gz', embed: 'libs/policy/src/default-bundle/latchkey-authz.bundle.ts' },
  // A tiny, different policy for the integration tests' hot activation (tests need no opa).
  { name: 'test fixture', src: 'libs/policy/fixtures/maintenance', out: 'libs/policy/fixtures/maintenance.tar.gz' },
];

const log = (line) => process.stdout.write(`[policy] ${line}\n`);

function run(opa, args, options = {}) {
  return execFileSync(opa, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function failWith(error, what) {
  const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
  throw new Error(`${what} failed${output ? `:\n${output}` : `: ${error.message}`}`);
}

/** The capabilities the policy service offers: the Wasm SDK's built-ins plus HOST_BUILTINS, declared as this opa declares them. */
export function writeCapabilities(opa, dir) {
  // The package does not export the file: find it beside its entry point (src/index.cjs).
  const entry = createRequire(import.meta.url).resolve('@open-policy-agent/opa-wasm');
  const sdk = JSON.parse(readFileSync(join(dirname(entry), '..', 'capabilities.json'), 'utf8'));
  const current = JSON.parse(run(opa, ['capabilities', '--current']));
  const allowed = new Set([...sdk.builtins.map((builtin) => builtin.name), ...HOST_BUILTINS]);
  const capabilities = {
    builtins: current.builtins.filter((builtin) => allowed.has(builtin.name)),
    future_keywords: current.future_keywords,
    features: current.features,
    wasm_abi_versions: sdk.wasm_abi_versions,
  };
  const path = join(dir, 'capabilities.json');
  writeFileSync(path, JSON.stringify(capabilities));
  return path;
}

/** Does a source folder define `data_errors` (outside its tests)? */
function definesDataErrors(src) {
  return readdirSync(resolve(REPO_ROOT, src), { recursive: true })
    .filter((name) => name.endsWith('.rego') && !name.endsWith('_test.rego'))
    .some((name) => /^data_errors\s+contains\b/m.test(readFileSync(resolve(REPO_ROOT, src, name), 'utf8')));
}

/** `opa build -t wasm` of one source folder into `out` (paths relative to the repository). */
export function buildBundle(opa, { src, out, capabilities }) {
  mkdirSync(dirname(resolve(REPO_ROOT, out)), { recursive: true });
  const ignores = IGNORED.flatMap((pattern) => ['--ignore', pattern]);
  const entrypoints = [ENTRYPOINT, ...(definesDataErrors(src) ? [DATA_ERRORS_ENTRYPOINT] : [])].flatMap((entrypoint) => ['-e', entrypoint]);
  try {
    run(opa, ['build', '-t', 'wasm', ...entrypoints, '--capabilities', capabilities, ...ignores, '-o', out, src]);
  } catch (error) {
    failWith(error, `opa build of ${src}`);
  }
  return readFileSync(resolve(REPO_ROOT, out));
}

/** The files of a bundle (gzip'ed ustar), by name without the leading `/`. */
export function bundleEntries(archive) {
  const tar = gunzipSync(archive);
  const entries = new Map();
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const name = `${field(345, 155) ? `${field(345, 155)}/` : ''}${field(0, 100)}`.replace(/^\/+/, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    if (type === '0') entries.set(name, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function embedModule(archive) {
  const base64 = archive.toString('base64');
  const lines = base64.match(/.{1,120}/g).join('\n');
  return `// Generated by \`npm run policy:build\` from policies/ (opa ${OPA_VERSION}): do not edit.
// The same bytes as policies/compiled/latchkey-authz.tar.gz; \`npm run policy:check\` verifies both.
// Embedded so that the policy service finds its default bundle in its own dist/ (ADR 0022).

/** SHA-256 (hex) of the default bundle archive. */
export const DEFAULT_BUNDLE_SHA256 = '${sha256(archive)}';

/** The default bundle (\`opa build -t wasm -e ${ENTRYPOINT} policies\`), base64. */
export const DEFAULT_BUNDLE_BASE64 = \`
${lines}
\`.replace(/\\s+/g, '');
`;
}

function embeddedBytes(path) {
  const text = readFileSync(resolve(REPO_ROOT, path), 'utf8');
  const match = /DEFAULT_BUNDLE_BASE64 = `([^`]*)`/.exec(text);
  if (!match) throw new Error(`${path} does not hold an embedded bundle`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** Why two bundles differ, entry by entry; undefined when their contents are the same. */
export function compareBundles(committed, fresh) {
  if (committed.equals(fresh)) return undefined;
  let a;
  try {
    a = bundleEntries(committed);
  } catch (error) {
    return `the committed bundle cannot be read (${error.message})`;
  }
  const b = bundleEntries(fresh);
  const differences = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(name)) differences.push(`${name} is missing from the committed bundle`);
    else if (!b.has(name)) differences.push(`${name} is no longer built`);
    else if (!a.get(name).equals(b.get(name))) differences.push(`${name} differs`);
  }
  // Same files, different gzip bytes (another Go's compressor): the same bundle.
  return differences.length ? differences.join('; ') : undefined;
}

function checkSources(opa) {
  const sources = BUNDLES.map((bundle) => bundle.src);
  try {
    const unformatted = run(opa, ['fmt', '-l', ...sources]).trim();
    if (unformatted) throw new Error(`opa fmt: not formatted (run \`opa fmt -w ${sources.join(' ')}\`):\n${unformatted}`);
  } catch (error) {
    if (error.message.startsWith('opa fmt:')) throw error;
    failWith(error, 'opa fmt');
  }
  for (const src of sources) {
    try {
      run(opa, ['check', '--strict', '--ignore', 'compiled', src]);
    } catch (error) {
      failWith(error, `opa check --strict ${src}`);
    }
  }
  log(`opa fmt and opa check --strict: clean (${sources.join(', ')})`);
  try {
    const output = run(opa, ['test', '--ignore', 'compiled', 'policies']);
    log(`opa test policies: ${output.trim().split('\n').pop()}`);
  } catch (error) {
    failWith(error, 'opa test policies');
  }
}

function option(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

function main() {
  const opa = ensureOpa();
  if (opa.version !== OPA_VERSION) log(`warning: opa ${opa.version}, not ${OPA_VERSION}: the Wasm may differ from the committed bundles`);
  const work = mkdtempSync(join(tmpdir(), 'latchkey-policy-'));
  try {
    const capabilities = writeCapabilities(opa.path, work);
    const src = option('src');
    const out = option('out');
    if (src || out) {
      if (!src || !out) throw new Error('give both --src DIR and --out FILE');
      const archive = buildBundle(opa.path, { src: relative(REPO_ROOT, resolve(src)), out: resolve(out), capabilities });
      log(`${out}: ${archive.length} bytes, sha256 ${sha256(archive)}`);
      return;
    }
    if (process.argv.includes('--check')) {
      checkSources(opa.path);
      const problems = [];
      for (const bundle of BUNDLES) {
        const fresh = buildBundle(opa.path, { src: bundle.src, out: join(work, `${bundle.name.replace(/\W+/g, '-')}.tar.gz`), capabilities });
        let committed;
        try {
          committed = readFileSync(resolve(REPO_ROOT, bundle.out));
        } catch {
          problems.push(`${bundle.out} is missing`);
          continue;
        }
        const difference = compareBundles(committed, fresh);
        if (difference) problems.push(`${bundle.out} does not match ${bundle.src}/: ${difference}`);
        if (bundle.embed && !embeddedBytes(bundle.embed).equals(committed)) problems.push(`${bundle.embed} does not hold the bytes of ${bundle.out}`);
      }
      if (problems.length) throw new Error(`committed bundles are stale (run \`npm run policy:build\` and commit the result):\n  ${problems.join('\n  ')}`);
      log(`committed bundles match their sources (${BUNDLES.map((bundle) => bundle.out).join(', ')})`);
      return;
    }
    for (const bundle of BUNDLES) {
      const archive = buildBundle(opa.path, { src: bundle.src, out: bundle.out, capabilities });
      log(`${bundle.out}: ${archive.length} bytes, sha256 ${sha256(archive)}`);
      if (bundle.embed) {
        mkdirSync(dirname(resolve(REPO_ROOT, bundle.embed)), { recursive: true });
        writeFileSync(resolve(REPO_ROOT, bundle.embed), embedModule(archive));
        log(`${bundle.embed}: embedded`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`[policy] ${error.message}\n`);
    process.exit(1);
  }
}
