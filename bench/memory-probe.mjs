// Investigation aid for `npm run bench`, not part of the measured run: preload it into a service
// (NODE_OPTIONS="--import /abs/path/bench/memory-probe.mjs", MEMORY_PROBE_DIR=/tmp/mem) and, a few
// seconds after start, it writes <dir>/<service>-<pid>.json with process.memoryUsage(), V8 heap
// spaces, the WebAssembly modules the process compiled and the CommonJS packages it loaded.
import { writeFileSync, mkdirSync } from 'node:fs';
import Module from 'node:module';
import { statSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const dir = process.env.MEMORY_PROBE_DIR ?? '/tmp/mem';
const delayMs = Number(process.env.MEMORY_PROBE_DELAY_MS ?? 8000);
const service = /apps\/([^/]+)\/dist/.exec(process.argv[1] ?? '')?.[1] ?? 'process';
const wasm = [];

const record = (source, how) => {
  const bytes = source?.byteLength ?? source?.buffer?.byteLength;
  wasm.push({ how, bytes, stack: new Error().stack.split('\n').slice(3, 7).map((l) => l.trim()) });
};
const { compile, instantiate } = WebAssembly;
WebAssembly.compile = function (source) { record(source, 'compile'); return compile.apply(this, arguments); };
WebAssembly.instantiate = function (source) { if (!(source instanceof WebAssembly.Module)) record(source, 'instantiate'); return instantiate.apply(this, arguments); };
const OriginalModule = WebAssembly.Module;
WebAssembly.Module = function Module(source) { record(source, 'new Module'); return new OriginalModule(source); };
WebAssembly.Module.prototype = OriginalModule.prototype;
Object.assign(WebAssembly.Module, { customSections: OriginalModule.customSections, exports: OriginalModule.exports, imports: OriginalModule.imports });

// CommonJS modules only (Node 20 has no synchronous ESM load hook); Nest, Prisma, pg, jose's CJS... are CJS.
function loadedPackages() {
  const packages = new Map();
  for (const [file, mod] of Object.entries(Module._cache)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    const name = match ? match[1] : file.includes('/libs/') ? `libs/${/libs\/([^/]+)/.exec(file)[1]}` : 'other';
    let bytes = 0;
    try { bytes = statSync(file).size; } catch { /* builtin or virtual */ }
    const entry = packages.get(name) ?? { files: 0, bytes: 0 };
    entry.files += 1;
    entry.bytes += bytes;
    packages.set(name, entry);
    void mod;
  }
  return packages;
}

setTimeout(() => {
  const toMb = (n) => Math.round((n / 1048576) * 10) / 10;
  const usage = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, toMb(v)]));
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, toMb(s.space_used_size)]));
  const top = [...loadedPackages()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25).map(([name, e]) => ({ name, files: e.files, sourceMb: toMb(e.bytes) }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${service}-${process.pid}.json`, JSON.stringify({ service, usage, spaces, wasm: wasm.map((w) => ({ ...w, mb: toMb(w.bytes ?? 0) })), packages: top }, null, 2));
}, delayMs).unref();
