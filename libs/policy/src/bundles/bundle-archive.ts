import { gunzipSync } from 'node:zlib';

/** The entrypoint every Latchkey policy compiles (`opa build -t wasm -e latchkey/authz/decision`). */
export const DECISION_ENTRYPOINT = 'latchkey/authz/decision';
/** Optional: a set of messages saying what is wrong with the data; checked before data is activated. */
export const DATA_ERRORS_ENTRYPOINT = 'latchkey/authz/data_errors';

/** Why a candidate policy cannot be used; its message is shown to the administrator as is. */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
}

export interface BundleArchive {
  /** The compiled policy (the manifest's module for DECISION_ENTRYPOINT, else `policy.wasm`). */
  wasm: Uint8Array;
  /** The bundle's `data.json` (`{}` when it has none). */
  data: Record<string, unknown>;
}

const MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024;
const MAX_ENTRIES = 2000;

/** Reads an `opa build -t wasm` bundle: a gzip'ed ustar archive. Throws PolicyValidationError. */
export function readBundleArchive(archive: Uint8Array): BundleArchive {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_UNCOMPRESSED_BYTES });
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /too large|larger than/i.test(String(error));
    throw new PolicyValidationError(
      tooLarge ? `the bundle unpacks to more than ${MAX_UNCOMPRESSED_BYTES / 1024 / 1024} MiB` : 'the bundle is not a gzip archive (expected the tar.gz written by `opa build -t wasm`)',
    );
  }
  const entries = tarEntries(tar);
  const manifest = parseJsonEntry(entries, '.manifest');
  const module = wasmModuleOf(manifest);
  const wasm = entries.get(module);
  if (!wasm) throw new PolicyValidationError(`the bundle has no ${module} (build it with \`opa build -t wasm -e ${DECISION_ENTRYPOINT}\`)`);
  const data = parseJsonEntry(entries, 'data.json') ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new PolicyValidationError('the bundle\'s data.json is not a JSON object');
  return { wasm, data: data as Record<string, unknown> };
}

function wasmModuleOf(manifest: unknown): string {
  if (manifest === undefined) return 'policy.wasm';
  const modules = (manifest as { wasm?: unknown }).wasm;
  if (!Array.isArray(modules)) throw new PolicyValidationError('the bundle\'s .manifest lists no Wasm module: was it built with `opa build -t wasm`?');
  const entry = (modules as { entrypoint?: unknown; module?: unknown }[]).find((m) => m.entrypoint === DECISION_ENTRYPOINT);
  if (!entry || typeof entry.module !== 'string') {
    const found = modules.map((m: { entrypoint?: unknown }) => String(m.entrypoint)).join(', ') || 'none';
    throw new PolicyValidationError(`the bundle does not compile the entrypoint ${DECISION_ENTRYPOINT} (it has: ${found.slice(0, 200)})`);
  }
  return entry.module.replace(/^\/+/, '');
}

function parseJsonEntry(entries: Map<string, Buffer>, name: string): unknown {
  const bytes = entries.get(name);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new PolicyValidationError(`the bundle's ${name} is not valid JSON`);
  }
}

/** Regular files of a ustar archive by name, without a leading `/`. */
function tarEntries(tar: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    if (!checksumMatches(header)) throw new PolicyValidationError('the bundle is not a tar archive (bad header checksum)');
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${field(0, 100)}`.replace(/^\/+/, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0 || offset + 512 + size > tar.length) throw new PolicyValidationError('the bundle\'s tar archive is truncated');
    const type = field(156, 1) || '0';
    if (type === '0') entries.set(name, tar.subarray(offset + 512, offset + 512 + size));
    if (entries.size > MAX_ENTRIES) throw new PolicyValidationError(`the bundle has more than ${MAX_ENTRIES} files`);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

function checksumMatches(header: Buffer): boolean {
  const stored = parseInt(header.subarray(148, 156).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === stored;
}
