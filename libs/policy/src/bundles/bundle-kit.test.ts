// Shared by the policy specs. The `.test.ts` suffix keeps it out of the library build without jest
// collecting it as a test file (jest runs `*.spec.ts`).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { defaultBundle } from '../default-bundle/default-bundle.js';
import { readBundleArchive } from './bundle-archive.js';

/** A gzip'ed ustar archive of `entries` (what `opa build` writes, minus its details). */
export function tarGz(entries: Record<string, Uint8Array | string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(entries)) {
    const body = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(`/${name}`, 0, 100, 'utf8');
    header.write('0000600\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const ENTRYPOINT_MANIFEST = JSON.stringify({ revision: '', roots: [''], wasm: [{ entrypoint: 'latchkey/authz/decision', module: '/policy.wasm' }] });

/** The default policy's Wasm with other data: a different bundle without `opa`. */
export function defaultWasmWithData(data: Record<string, unknown>): Buffer {
  const { wasm } = readBundleArchive(defaultBundle());
  return tarGz({ 'data.json': JSON.stringify(data), 'policy.wasm': wasm, '.manifest': ENTRYPOINT_MANIFEST });
}

export function defaultData(): Record<string, unknown> {
  return readBundleArchive(defaultBundle()).data;
}

/** libs/policy/fixtures/maintenance.tar.gz: a different policy (reads only), built by `npm run policy:build`. */
export function maintenanceBundle(): Buffer {
  return readFileSync(new URL('../../fixtures/maintenance.tar.gz', import.meta.url));
}

/** A well-formed bundle whose "policy" is a Wasm module that is not an OPA policy. */
export function notAPolicyBundle(): Buffer {
  // The smallest valid module: magic + version, no sections.
  return tarGz({ 'policy.wasm': Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), '.manifest': ENTRYPOINT_MANIFEST });
}
