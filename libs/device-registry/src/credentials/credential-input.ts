import { createPublicKey, type JsonWebKey, randomUUID } from 'node:crypto';
import { ContractError, type CredentialInput } from '@latchkey/contracts';
import { jwkThumbprint, randomToken, sha256Hex } from '@latchkey/crypto';
import type { z } from 'zod';
import type { DeviceCredential, Prisma } from '../generated/prisma/client.js';

export type ParsedCredentialInput = z.output<typeof CredentialInput>;
export type CredentialKind = ParsedCredentialInput['kind'];

/** A credential ready to store. */
export interface PreparedCredential {
  id: string;
  kind: CredentialKind;
  kid: string | null;
  /** The public JWK as stored (its `kid` set). */
  jwk: Record<string, unknown> | null;
  thumbprint: string | null;
  secretHash: string | null;
  expiresAt: Date | null;
  /** A generated shared secret: returned once to the caller, never stored. */
  secret?: string;
}

export interface CredentialContext {
  /** The device's type, and whether the tenants file lets that type use a shared secret. */
  type: string;
  sharedSecretAllowed: boolean;
  /** Epoch ms: an expiry must lie after it. */
  now: number;
}

/**
 * Turns a submitted credential into what is stored: a JWK with its RFC 7638 thumbprint (the default
 * `kid`), an X.509 thumbprint in its one canonical form, or a freshly generated secret of which only
 * the SHA-256 is kept. The contract has checked the shapes; this checks what a schema cannot.
 */
export function prepareCredential(input: ParsedCredentialInput, context: CredentialContext): PreparedCredential {
  const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
  if (expiresAt && expiresAt.getTime() <= context.now) throw invalid('a credential cannot expire in the past');
  const base = { id: randomUUID(), expiresAt, kid: null, jwk: null, thumbprint: null, secretHash: null };
  switch (input.kind) {
    case 'jwk': {
      const jwk = input.jwk as Record<string, unknown>;
      // The shape says nothing of the numbers: an EC point off the curve would never verify anything.
      try {
        createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      } catch {
        throw invalid('the JWK is not a usable public key');
      }
      // RFC 7638 (what jose's calculateJwkThumbprint computes), synchronously: bulk rows prepare in a loop.
      const thumbprint = jwkThumbprint(jwk as JsonWebKey);
      const kid = typeof jwk.kid === 'string' ? jwk.kid : thumbprint;
      return { ...base, kind: 'jwk', kid, jwk: { ...jwk, kid }, thumbprint };
    }
    case 'x509': {
      const thumbprint = normaliseX509Thumbprint(input.thumbprint);
      if (!thumbprint) throw invalid('an X.509 thumbprint is the SHA-256 of the certificate (32 bytes): base64url, or hex with or without colons');
      return { ...base, kind: 'x509', thumbprint };
    }
    case 'secret': {
      if (!context.sharedSecretAllowed) throw invalid(`devices of type ${context.type} may not use a shared secret (deviceTypes[].sharedSecret in the tenants file)`);
      const secret = randomToken(32);
      return { ...base, kind: 'secret', secretHash: sha256Hex(secret), secret };
    }
  }
}

/**
 * `x5t#S256` (RFC 7515 §4.1.8) in its canonical form, base64url without padding, from base64url or
 * base64 (padding optional) or hex (either case, colons and spaces allowed); null unless it is 32 bytes.
 */
export function normaliseX509Thumbprint(value: string): string | null {
  const compact = value.replace(/[\s:]/g, '');
  let bytes: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(compact)) bytes = Buffer.from(compact, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(compact)) bytes = Buffer.from(compact.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
  else return null;
  return bytes.length === 32 ? bytes.toString('base64url') : null;
}

/** Two credentials of one request that are the same key (or the same certificate). */
export function duplicateWithin(credentials: readonly PreparedCredential[]): PreparedCredential | undefined {
  const seen = new Set<string>();
  for (const credential of credentials) {
    for (const key of identities(credential)) {
      if (seen.has(key)) return credential;
      seen.add(key);
    }
  }
  return undefined;
}

/** What must be unique among a device's keys: the key itself, and the `kid` a signature names. */
export function identities(credential: { kind: string; thumbprint: string | null; kid: string | null }): string[] {
  const keys: string[] = [];
  if (credential.thumbprint) keys.push(`${credential.kind}:${credential.thumbprint}`);
  if (credential.kind === 'jwk' && credential.kid) keys.push(`kid:${credential.kid}`);
  return keys;
}

function invalid(message: string): ContractError {
  return new ContractError('validation_failed', message);
}

/** The stored row of a prepared credential. */
export function credentialRow(tenant: string, deviceId: string, credential: PreparedCredential, createdAt: Date): DeviceCredential {
  const { secret: _shownOnce, jwk, ...stored } = credential;
  return { ...stored, jwk: jwk as Prisma.JsonObject | null, tenant, deviceId, status: 'active', createdAt, revokedAt: null };
}
