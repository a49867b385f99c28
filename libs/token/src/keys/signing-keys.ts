import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '@latchkey/contracts';
import { Logger } from '@nestjs/common';
import { type JwsAlgorithm, jwkThumbprint, type KeyEncryption, privateKeyFromPkcs8, publicKeyFromJwk } from '@latchkey/crypto';
import type { Prisma, SigningKey } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';
import {
  duePromotions,
  type KeyState,
  pendingKey,
  publishUntil,
  publishedKeys,
  rotationDue,
  type RotationTimings,
  rotationTimings,
  signerCacheUntil,
  signingKeyAt,
} from './key-states.js';

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

/** A key that has just become the tenant's signer; the previous one (if any) was retired. */
export interface KeyActivation {
  tenant: string;
  kid: string;
  activatedAt: Date;
  previousKid?: string;
  previousPublishedUntil?: Date;
  reason?: string;
}

/** A rotation that is pending (or was just started): the key that will sign, and from when. */
export interface PendingRotation {
  kid: string;
  activatesAt: Date;
  /** False when a rotation was already pending and this call returned it. */
  created: boolean;
}

export interface SigningKeysOptions extends Partial<RotationTimings> {
  clock?: Clock;
  /** The longest lifetime (seconds) the tenant gives any token it issues without a per-client override. */
  tenantTokenLifetimeSeconds?: (tenant: string) => number;
  /** Told once, by the replica that promoted it, when a key becomes active. */
  onActivated?: (activation: KeyActivation) => Promise<void>;
}

type Tx = Prisma.TransactionClient;

const logger = new Logger('SigningKeys');

/**
 * A tenant's signing keys and their rotation (docs/adr/0010-signing-key-rotation.md). Private keys are
 * generated here, stored only encrypted with the key-encryption key (associated data: tenant and kid)
 * and decrypted into memory when first used.
 *
 * Every change of a tenant's keys (first key, rotation, promotion) runs in a transaction holding the
 * tenant's advisory lock and re-reads the keys under it, so replicas racing each other create one key
 * and promote it once.
 */
export class SigningKeys {
  private readonly signers = new Map<string, { signer: ActiveSigner; until: number }>();
  private readonly loadingSigners = new Map<string, Promise<ActiveSigner>>();
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly verificationKeys = new Map<string, VerificationKey | null>();
  private readonly clock: Clock;
  readonly timings: RotationTimings;

  constructor(
    private readonly db: TokenDatabase,
    private readonly encryption: KeyEncryption,
    private readonly options: SigningKeysOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.timings = rotationTimings(options);
  }

  /** Makes sure the tenant has an active key; safe when several replicas start at once. */
  async ensureActiveKey(tenant: string, alg: JwsAlgorithm): Promise<string> {
    return this.locked(tenant, async (tx) => {
      const existing = await tx.signingKey.findFirst({ where: { tenant, status: 'active' }, orderBy: { createdAt: 'desc' } });
      if (existing) return existing.kid;
      return (await this.createKey(tx, tenant, alg, 'active', new Date(this.clock()), null)).kid;
    });
  }

  /**
   * Starts a rotation: a `next` key, published at once, signing from now + the propagation delay. If a
   * rotation is already pending, returns it instead of creating a second key.
   */
  async rotate(tenant: string, alg: JwsAlgorithm, reason?: string): Promise<PendingRotation> {
    return (await this.startRotation(tenant, alg, reason, null))!;
  }

  /** The scheduled variant: rotates only when the signing key has signed for `intervalMs` (checked under the lock). */
  async rotateIfDue(tenant: string, alg: JwsAlgorithm, intervalMs: number): Promise<PendingRotation | null> {
    return this.startRotation(tenant, alg, 'scheduled', intervalMs);
  }

  private async startRotation(tenant: string, alg: JwsAlgorithm, reason: string | undefined, dueAfterMs: number | null): Promise<PendingRotation | null> {
    const activations: KeyActivation[] = [];
    const result = await this.locked(tenant, async (tx) => {
      const now = this.clock();
      const activation = await this.promoteLocked(tx, tenant, now);
      if (activation) activations.push(activation);
      const rows = await this.liveRows(tx, tenant);
      const pending = rows.find((row) => row.status === 'next');
      if (pending) return { kid: pending.kid, activatesAt: pending.activatesAt!, created: false };
      if (dueAfterMs !== null && !rotationDue(rows.map(toState), now, dueAfterMs)) return null;
      const key = await this.createKey(tx, tenant, alg, 'next', new Date(now + this.timings.propagationDelayMs), reason ?? null);
      return { kid: key.kid, activatesAt: key.activatesAt!, created: true };
    });
    await this.announce(activations);
    return result;
  }

  /**
   * Promotes the tenant's `next` key if its activation instant has come, retiring the active one.
   * Conditional under the tenant lock: however many replicas call it, the key is promoted once and only
   * the replica that promoted it gets (and announces) the activation.
   */
  async promoteDue(tenant: string): Promise<KeyActivation | null> {
    const activation = await this.locked(tenant, (tx) => this.promoteLocked(tx, tenant, this.clock()));
    await this.announce(activation ? [activation] : []);
    return activation;
  }

  private async promoteLocked(tx: Tx, tenant: string, now: number): Promise<KeyActivation | null> {
    const rows = await this.liveRows(tx, tenant);
    const due = duePromotions(rows.map(toState), now).sort((a, b) => a.activatesAt - b.activatesAt);
    if (due.length === 0) return null;
    // Normally one; if several were somehow due, the latest wins and the others retire with the old key.
    const promoted = due[due.length - 1]!;
    const activatedAt = new Date(promoted.activatesAt);
    const maxLifetime = await this.maxTokenLifetimeSeconds(tx, tenant);
    const until = new Date(publishUntil(promoted.activatesAt, maxLifetime, this.timings.clockSkewMs));
    const previous = rows.filter((row) => row.kid !== promoted.kid && (row.status === 'active' || row.status === 'next') && (row.activatesAt?.getTime() ?? 0) <= promoted.activatesAt);
    if (previous.length > 0) {
      await tx.signingKey.updateMany({
        where: { kid: { in: previous.map((row) => row.kid) }, status: { in: ['active', 'next'] } },
        data: { status: 'retired', retiredAt: activatedAt, publishUntil: until },
      });
    }
    await tx.signingKey.update({ where: { kid: promoted.kid }, data: { status: 'active' } });
    const predecessor = previous.filter((row) => row.status === 'active').sort((a, b) => (b.activatesAt?.getTime() ?? 0) - (a.activatesAt?.getTime() ?? 0))[0];
    const promotedRow = rows.find((row) => row.kid === promoted.kid)!;
    return {
      tenant,
      kid: promoted.kid,
      activatedAt,
      ...(predecessor ? { previousKid: predecessor.kid, previousPublishedUntil: until } : {}),
      ...(promotedRow.rotationReason ? { reason: promotedRow.rotationReason } : {}),
    };
  }

  /**
   * The key that signs now. Cached per tenant, but never past a pending key's activation instant and
   * never longer than `signerCacheMs` (< propagation delay): so a replica sees every rotation before it
   * takes effect, switches exactly at the activation instant, and never signs with a key before it.
   * A due `next` key is promoted here if no timer has done it yet.
   */
  async activeSigner(tenant: string): Promise<ActiveSigner> {
    const cached = this.signers.get(tenant);
    if (cached && this.clock() < cached.until) return cached.signer;
    let loading = this.loadingSigners.get(tenant);
    if (!loading) {
      loading = this.loadSigner(tenant).finally(() => this.loadingSigners.delete(tenant));
      this.loadingSigners.set(tenant, loading);
    }
    return loading;
  }

  private async loadSigner(tenant: string): Promise<ActiveSigner> {
    // The cache's lifetime counts from before the read: a rotation committed after it is seen next time.
    const readAt = this.clock();
    let rows = await this.liveRows(this.db.prisma, tenant);
    let current = signingKeyAt(rows.map(toState), readAt);
    if (current?.status === 'next') {
      await this.promoteDue(tenant);
      rows = await this.liveRows(this.db.prisma, tenant);
      current = signingKeyAt(rows.map(toState), readAt);
    }
    if (!current) throw new Error(`tenant ${tenant} has no active signing key`);
    const row = rows.find((candidate) => candidate.kid === current.kid)!;
    const signer: ActiveSigner = { kid: row.kid, alg: row.alg as JwsAlgorithm, privateKey: this.privateKey(row) };
    this.signers.set(tenant, { signer, until: signerCacheUntil(rows.map(toState), readAt, this.timings.signerCacheMs) });
    return signer;
  }

  /** The public key with this id, or null; a key id is global, the tenant is checked by the caller. */
  async verificationKey(kid: string): Promise<VerificationKey | null> {
    if (this.verificationKeys.has(kid)) return this.verificationKeys.get(kid)!;
    const row = await this.db.prisma.signingKey.findUnique({ where: { kid } });
    const key = row && { tenant: row.tenant, alg: row.alg as JwsAlgorithm, publicKey: publicKeyFromJwk(row.publicJwk as JsonWebKey) };
    // Unknown ids are not cached: a key created by another replica a moment ago must be found.
    // A retired key keeps verifying: its tokens carry their own `exp`, which the caller checks.
    if (key) this.verificationKeys.set(kid, key);
    return key;
  }

  /** Keys that may verify a live token: the pending one, the active one, retired ones still published. */
  async jwks(tenant: string): Promise<PublicJwk[]> {
    const now = this.clock();
    const rows = await this.db.prisma.signingKey.findMany({
      where: { tenant, OR: [{ status: { in: ['next', 'active'] } }, { publishUntil: { gt: new Date(now) } }] },
      orderBy: { createdAt: 'desc' },
    });
    return publishedKeys(rows.map((row) => ({ ...toState(row), row })), now).map(({ row }) => row.publicJwk as PublicJwk);
  }

  /** The pending rotation of a tenant, if any (for operators and tests). */
  async pending(tenant: string): Promise<{ kid: string; activatesAt: Date } | null> {
    const rows = await this.liveRows(this.db.prisma, tenant);
    const key = pendingKey(rows.map(toState), this.clock());
    return key && { kid: key.kid, activatesAt: new Date(key.activatesAt) };
  }

  /** The `next` and `active` keys of every tenant, as states (for the rotation schedule). */
  async liveStates(): Promise<Map<string, KeyState[]>> {
    const rows = await this.db.prisma.signingKey.findMany({
      where: { status: { in: ['next', 'active'] } },
      select: { kid: true, tenant: true, status: true, activatesAt: true, createdAt: true, publishUntil: true },
    });
    const byTenant = new Map<string, KeyState[]>();
    for (const row of rows) {
      const states = byTenant.get(row.tenant) ?? [];
      states.push(toState(row));
      byTenant.set(row.tenant, states);
    }
    return byTenant;
  }

  private liveRows(client: Pick<Tx, 'signingKey'>, tenant: string): Promise<SigningKey[]> {
    return client.signingKey.findMany({ where: { tenant, status: { in: ['next', 'active'] } }, orderBy: { createdAt: 'asc' } });
  }

  private async createKey(tx: Tx, tenant: string, alg: JwsAlgorithm, status: 'active' | 'next', activatesAt: Date, reason: string | null): Promise<SigningKey> {
    const { publicJwk, pkcs8 } = generateKeyPair(alg);
    const kid = jwkThumbprint(publicJwk);
    return tx.signingKey.create({
      data: {
        kid,
        tenant,
        alg,
        status,
        activatesAt,
        rotationReason: reason,
        publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
        privateKeyCiphertext: new Uint8Array(this.encryption.encrypt(pkcs8, associatedData(tenant, kid))),
      },
    });
  }

  /** The longest lifetime of a token this tenant may have issued: its default or any client's override. */
  private async maxTokenLifetimeSeconds(tx: Tx, tenant: string): Promise<number> {
    const { _max } = await tx.oAuthClient.aggregate({ where: { tenant }, _max: { accessTokenTtlSeconds: true } });
    return Math.max(this.options.tenantTokenLifetimeSeconds?.(tenant) ?? 0, _max.accessTokenTtlSeconds ?? 0);
  }

  private privateKey(row: SigningKey): KeyObject {
    let key = this.privateKeys.get(row.kid);
    if (!key) {
      key = privateKeyFromPkcs8(this.encryption.decrypt(Buffer.from(row.privateKeyCiphertext), associatedData(row.tenant, row.kid)));
      this.privateKeys.set(row.kid, key);
    }
    return key;
  }

  private locked<T>(tenant: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`latchkey.signing-key:${tenant}`}))`;
      return work(tx);
    });
  }

  /** After the commit, so that nobody hears of an activation that was rolled back. */
  private async announce(activations: KeyActivation[]): Promise<void> {
    for (const activation of activations) {
      this.signers.delete(activation.tenant);
      // The rotation has happened whether or not anybody hears of it: never fail the caller for this.
      await this.options.onActivated?.(activation).catch((error: unknown) => logger.warn(`announcing key ${activation.kid} of ${activation.tenant} failed: ${String(error)}`));
    }
  }
}

function toState(row: Pick<SigningKey, 'kid' | 'status' | 'activatesAt' | 'createdAt' | 'publishUntil'>): KeyState {
  return {
    kid: row.kid,
    status: row.status,
    // Keys from before rotation existed have no activation instant: they signed from their creation.
    activatesAt: (row.activatesAt ?? row.createdAt).getTime(),
    publishUntil: row.publishUntil?.getTime() ?? null,
  };
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
