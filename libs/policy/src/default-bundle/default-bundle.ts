import { createHash } from 'node:crypto';
import { DEFAULT_BUNDLE_BASE64, DEFAULT_BUNDLE_SHA256 } from './latchkey-authz.bundle.js';

/**
 * The built-in default policy: policies/ compiled by `npm run policy:build` (committed, so that neither
 * the services nor `npm start` need `opa`; docs/adr/0022-policy-bundles.md).
 */
export function defaultBundle(): Uint8Array {
  const archive = Buffer.from(DEFAULT_BUNDLE_BASE64, 'base64');
  const digest = createHash('sha256').update(archive).digest('hex');
  if (digest !== DEFAULT_BUNDLE_SHA256) throw new Error(`the embedded default policy bundle is corrupt (sha256 ${digest}): run npm run policy:build`);
  return archive;
}
