// A Go toolchain for building the Go programs the tests need (nats-server, helm, opa) on a machine that
// has no Go, or one too old for them (Debian 12's golang-go is 1.19; opa 1.22 needs Go 1.26).
//
// The Go module proxy serves every official Go release as a module, golang.org/toolchain (what the go
// command itself downloads for GOTOOLCHAIN=auto): GO_TOOLCHAIN_VERSION's zip is fetched from GOPROXY
// (default https://proxy.golang.org), checked against the SHA-256 pinned below and against its go.sum
// hash (`h1:`, as recorded in the checksum database sum.golang.org), and unpacked into
// .tools/go<version>/ by the small zip reader below (no `unzip` binary, no npm package). ~70 MB.
//
//   node tools/infra/go-toolchain.mjs    installs it when missing, prints the path of its `go`
//
// To move to another release: pick one that `${GOPROXY}/golang.org/toolchain/@v/list` lists for every
// platform below, download each zip, take its `sha256sum`, and its `h1:` from
// `https://sum.golang.org/lookup/golang.org/toolchain@v0.0.1-go<version>.<platform>` (this file checks
// the unpacked files against it, so a wrong one fails loudly).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { TOOLS_DIR } from './local-infra.mjs';

export const GO_TOOLCHAIN_VERSION = '1.26.10';

/** The zips of GO_TOOLCHAIN_VERSION by `${GOOS}-${GOARCH}`: SHA-256 of the file, and its go.sum hash. */
const GO_TOOLCHAIN_ZIPS = {
  'linux-amd64': { sha256: 'f64ecb0807852be2c98899561c45288a9ad57f4e88f3cd002ffabeccbd03bfe1', h1: 'h1:5VAGHlY8yl8pTPVSNIez3SNMy6fWabs+QMR25f3oMT0=' },
  'linux-arm64': { sha256: '195f18be92553fb272b9c4f9fca6e67b6a04d8831bf6c4b918ac70982fadb444', h1: 'h1:TuAzKmE5TqYnXpnhgY3GtBJCVg4AfNDA/K1gLyX5Hig=' },
};

const GOOS = { linux: 'linux', darwin: 'darwin' }[process.platform];
const GOARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const PLATFORM = `${GOOS}-${GOARCH}`;

/** Where GO_TOOLCHAIN_VERSION is unpacked: a GOROOT (bin/go, pkg/tool, src, go.env). */
export const GO_TOOLCHAIN_DIR = join(TOOLS_DIR, `go${GO_TOOLCHAIN_VERSION}`);

function onPath(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `[1, 26, 8]` for `go1.26.8` (and `go1.26rc1`: `[1, 26, 0]`). */
function parseGoVersion(text) {
  const match = /^go(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

function atLeast(version, minimum) {
  const wanted = parseGoVersion(`go${minimum}`);
  for (let i = 0; i < 3; i++) if (version[i] !== wanted[i]) return version[i] > wanted[i];
  return true;
}

function goVersionOf(go) {
  try {
    return execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();
  } catch {
    return undefined;
  }
}

/**
 * A `go` command that can build a module needing Go `minimum` (e.g. '1.26'): the machine's when it is
 * that recent, else GO_TOOLCHAIN_VERSION from the module proxy (installed on first use). Returns
 * `{ path, version, env }`: run it with `env` added (GOTOOLCHAIN=local, so that it never switches to
 * another toolchain by itself; GOROOT of the downloaded one).
 */
export function ensureGo(minimum) {
  const system = onPath('go');
  const systemVersion = system && goVersionOf(system);
  const parsed = parseGoVersion(systemVersion);
  if (parsed && atLeast(parsed, minimum)) return { path: system, version: systemVersion, env: { GOTOOLCHAIN: 'local' } };
  if (systemVersion) console.log(`[tools] ${system} is ${systemVersion}; Go ${minimum} or newer is needed`);
  if (!atLeast(parseGoVersion(`go${GO_TOOLCHAIN_VERSION}`), minimum)) throw new Error(`Go ${minimum} or newer is needed, and tools/infra/go-toolchain.mjs pins Go ${GO_TOOLCHAIN_VERSION}`);
  const go = ensureGoToolchain();
  return { path: go, version: `go${GO_TOOLCHAIN_VERSION}`, env: { GOTOOLCHAIN: 'local', GOROOT: GO_TOOLCHAIN_DIR } };
}

/** The `go` of GO_TOOLCHAIN_VERSION under .tools/, downloaded and unpacked when missing. */
export function ensureGoToolchain() {
  const go = join(GO_TOOLCHAIN_DIR, 'bin', 'go');
  if (existsSync(go)) return go;
  const pinned = GO_TOOLCHAIN_ZIPS[PLATFORM];
  if (!pinned) {
    throw new Error(`no Go toolchain is pinned for ${process.platform}/${process.arch} (tools/infra/go-toolchain.mjs): install Go ${GO_TOOLCHAIN_VERSION} or newer`);
  }
  const module = `golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN_VERSION}.${PLATFORM}`;
  const url = `${goProxy()}/golang.org/toolchain/@v/v0.0.1-go${GO_TOOLCHAIN_VERSION}.${PLATFORM}.zip`;
  console.log(`[tools] no suitable Go here: downloading Go ${GO_TOOLCHAIN_VERSION} (${module}, ~70 MB) into ${GO_TOOLCHAIN_DIR}`);
  mkdirSync(TOOLS_DIR, { recursive: true });
  const zipFile = join(TOOLS_DIR, `go${GO_TOOLCHAIN_VERSION}.${PLATFORM}.zip.${process.pid}`);
  const partial = `${GO_TOOLCHAIN_DIR}.partial.${process.pid}`;
  try {
    // fetch() is asynchronous and the callers are not: a child process does the download.
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--fetch', url, zipFile], { stdio: ['ignore', 'ignore', 'inherit'] });
    const zip = readFileSync(zipFile);
    const sha256 = createHash('sha256').update(zip).digest('hex');
    if (sha256 !== pinned.sha256) throw new Error(`${url} has SHA-256 ${sha256}, not the pinned ${pinned.sha256}`);
    const h1 = unzip(zip, `${module}/`, partial);
    if (h1 !== pinned.h1) throw new Error(`${module} unpacks to ${h1}, not the pinned ${pinned.h1}`);
    // Complete or absent: another process may have finished first.
    if (existsSync(go)) rmSync(partial, { recursive: true, force: true });
    else renameSync(partial, GO_TOOLCHAIN_DIR);
  } finally {
    rmSync(zipFile, { force: true });
    rmSync(partial, { recursive: true, force: true });
  }
  if (!existsSync(go)) throw new Error(`the Go toolchain did not unpack into ${GO_TOOLCHAIN_DIR}`);
  console.log(`[tools] Go ${GO_TOOLCHAIN_VERSION} is in ${GO_TOOLCHAIN_DIR}`);
  return go;
}

/** The first proxy of GOPROXY (a mirror works: the zip is checked against the pinned hashes), else proxy.golang.org. */
function goProxy() {
  const proxy = (process.env.GOPROXY ?? '').split(/[,|]/).find((entry) => /^https?:\/\//.test(entry));
  return (proxy ?? 'https://proxy.golang.org').replace(/\/+$/, '');
}

/**
 * Unpacks a Go module zip (every entry under `prefix`, as the module proxy builds them: stored or
 * deflated, no zip64, no links) into `dir`, and returns its go.sum hash: "h1:" + base64 of the SHA-256
 * of the lines "<sha256 hex of the file>  <name>\n", sorted by name (golang.org/x/mod/sumdb/dirhash).
 */
export function unzip(zip, prefix, dir) {
  const u16 = (offset) => zip.readUInt16LE(offset);
  const u32 = (offset) => zip.readUInt32LE(offset);
  // The end-of-central-directory record: the last 22 bytes, or before a comment of at most 64 KiB.
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (u32(offset) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip file');
  const count = u16(end + 10);
  let offset = u32(end + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new Error('zip64 archives are not supported');
  const lines = [];
  for (let i = 0; i < count; i++) {
    if (u32(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = u16(offset + 10);
    const compressedSize = u32(offset + 20);
    const size = u32(offset + 24);
    const nameLength = u16(offset + 28);
    const madeBy = u16(offset + 4) >> 8;
    const mode = madeBy === 3 ? u32(offset + 38) >>> 16 : 0;
    const local = u32(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + u16(offset + 30) + u16(offset + 32);
    if (name.endsWith('/')) continue;
    const relative = name.slice(prefix.length);
    if (!name.startsWith(prefix) || !relative || relative.split('/').some((part) => part === '' || part === '.' || part === '..') || name.includes('\n')) {
      throw new Error(`unexpected zip entry ${JSON.stringify(name)}`);
    }
    if ((mode & 0o170000) !== 0 && (mode & 0o170000) !== 0o100000) throw new Error(`zip entry ${name} is not a regular file`);
    if (u32(local) !== 0x04034b50) throw new Error(`corrupt zip entry ${name}`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    const stored = zip.subarray(start, start + compressedSize);
    const data = method === 0 ? stored : method === 8 ? inflateRawSync(stored) : undefined;
    if (!data) throw new Error(`zip entry ${name}: compression method ${method} is not supported`);
    if (data.length !== size) throw new Error(`zip entry ${name}: ${data.length} bytes, not ${size}`);
    const path = join(dir, ...relative.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    // Module zips may not record modes: the go command makes bin/ and pkg/tool/ executable itself.
    const executable = (mode & 0o111) !== 0 || /^(bin|pkg\/tool)\//.test(relative);
    chmodSync(path, executable ? 0o755 : 0o644);
    lines.push(`${createHash('sha256').update(data).digest('hex')}  ${name}\n`);
  }
  lines.sort((a, b) => {
    const nameOf = (line) => line.slice(66, -1);
    return nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0;
  });
  return `h1:${createHash('sha256').update(lines.join('')).digest('base64')}`;
}

async function fetchTo(url, file) {
  const response = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--fetch') {
  fetchTo(process.argv[3], process.argv[4]).catch((error) => {
    process.stderr.write(`[tools] ${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ''}\n`);
    process.exit(1);
  });
} else if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log = (...args) => console.error(...args);
    process.stdout.write(`${ensureGoToolchain()}\n`);
  } catch (error) {
    console.error(`[tools] ${error.message}`);
    process.exit(1);
  }
}
