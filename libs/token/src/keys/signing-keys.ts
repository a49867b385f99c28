import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '@latchkey/contracts';
import { type JwsAlgorithm, jwkThumbprint, type KeyEncryption, privateKeyFromPkcs8, publicKeyFromJwk } from '@latchkey/crypto';
import type { TokenDatabase } from '../token.prisma.js';

export interface ActiveSigner {
  kid: string;
  alg: JwsAlgorithm;
  privateKey: KeyObject;
}

export interface VerificationKey {
  tenant: string;
  alg: JwsAlgorithm;
  publicKey: KeyObject;
}

const SIGNER_CACHE_MS = 60_000;

/**
 * A tenant's signing keys. Private keys are generated here, stored only encrypted with the
 * key-encryption key (associated data: tenant and kid) and decrypted into memory when first used.
 */
export class SigningKeys {
  private readonly signers = new Map<string, { signer: ActiveSigner; until: number }>();
  private readonly verificationKeys = new Map<string, VerificationKey | null>();

  constructor(
    private readonly db: TokenDatabase,
    private readonly encryption: KeyEncryption,
  ) {}

  /** Makes sure the tenant has an active key; safe when several replicas start at once. */
  async ensureActiveKey(tenant: string, alg: JwsAlgorithm): Promise<string> {
    return this.db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`latchkey.signing-key:${tenant}`}))`;
      const existing = await tx.signingKey.findFirst({ where: { tenant, status: 'active' }, orderBy: { createdAt: 'desc' } });
      if (existing) return existing.kid;
      const { publicJwk, pkcs8 } = generateKeyPair(alg);
      const kid = jwkThumbprint(publicJwk);
      await tx.signingKey.create({
        data: {
          kid,
          tenant,
          alg,
          status: 'active',
          publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
          privateKeyCiphertext: new Uint8Array(this.encryption.encrypt(pkcs8, associatedData(tenant, kid))),
        },
      });
      return kid;
    });
  }

  async activeSigner(tenant: string): Promise<ActiveSigner> {
    const cached = this.signers.get(tenant);
    if (cached && cached.until > Date.now()) return cached.signer;
    const row = await this.db.prisma.signingKey.findFirst({ where: { tenant, status: 'active' }, orderBy: { createdAt: 'desc' } });
    if (!row) throw new Error(`tenant ${tenant} has no active signing key`);
    const pkcs8 = this.encryption.decrypt(Buffer.from(row.privateKeyCiphertext), associatedData(tenant, row.kid));
    const signer: ActiveSigner = { kid: row.kid, alg: row.alg as JwsAlgorithm, privateKey: privateKeyFromPkcs8(pkcs8) };
    this.signers.set(tenant, { signer, until: Date.now() + SIGNER_CACHE_MS });
    return signer;
  }

  /** The public key with this id, or null; a key id is global, the tenant is checked by the caller. */
  async verificationKey(kid: string): Promise<VerificationKey | null> {
    if (this.verificationKeys.has(kid)) return this.verificationKeys.get(kid)!;
    const row = await this.db.prisma.signingKey.findUnique({ where: { kid } });
    const key = row && { tenant: row.tenant, alg: row.alg as JwsAlgorithm, publicKey: publicKeyFromJwk(row.publicJwk as JsonWebKey) };
    // Unknown ids are not cached: a key created by another replica a moment ago must be found.
    if (key) this.verificationKeys.set(kid, key);
    return key;
  }

  /** Keys that may still verify a live token: the active ones and retired ones still published. */
  async jwks(tenant: string): Promise<PublicJwk[]> {
    const rows = await this.db.prisma.signingKey.findMany({
      where: { tenant, OR: [{ status: 'active' }, { publishUntil: { gt: new Date() } }] },
      orderBy: { createdAt: 'desc' },
    });
    return rows.map((row) => row.publicJwk as PublicJwk);
  }
}

function associatedData(tenant: string, kid: string): string {
  return `latchkey:signing-key:${tenant}:${kid}`;
}

function generateKeyPair(alg: JwsAlgorithm): { publicJwk: JsonWebKey; pkcs8: Buffer } {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicJwk: pair.publicKey.export({ format: 'jwk' }), pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }) };
}
