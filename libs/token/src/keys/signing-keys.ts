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
  type KeyStatus,
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

/** A key as operators see it (never its private half). */
export interface KeyRecord {
  kid: string;
  alg: JwsAlgorithm;
  status: KeyStatus;
  /** Whether the JWKS lists it now. */
  published: boolean;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
  publishUntil: Date | null;
  rotationReason: string | null;
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
  /** The algorithm a tenant signs access tokens with (its `signingAlg`); ES256 when absent. */
  tenantAlg?: (tenant: string) => JwsAlgorithm;
  /**
   * The longest lifetime (seconds) the tenants file gives any token of the tenant: its default, its
   * clients', device types' and delegated tokens' (`longestConfiguredTokenLifetimeSeconds`). Clients
   * registered in the database are read here.
   */
  tenantTokenLifetimeSeconds?: (tenant: string) => number;
  /** Told once, by the replica that promoted it, when a key becomes active. */
  onActivated?: (activation: KeyActivation) => Promise<void>;
}

type Tx = Prisma.TransactionClient;

const logger = new Logger('SigningKeys');

/**
 * A tenant's signing keys and their rotation (docs/adr/0010-signing-key-rotation.md). A tenant has one
 * key track per algorithm in use (its access-token algorithm, and e.g. RS256 when a client registers
 * RS256 ID tokens; docs/adr/0012): each track rotates through next → active → retired on its own, by
 * the same rules, and the JWKS lists the published keys of every track. Private keys are
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

  /** Makes sure the tenant has an active key for `alg`; safe when several replicas start at once. */
  async ensureActiveKey(tenant: string, alg: JwsAlgorithm): Promise<string> {
    return this.locked(tenant, async (tx) => {
      const existing = await tx.signingKey.findFirst({ where: { tenant, alg, status: { in: ['active', 'next'] } }, orderBy: { createdAt: 'desc' } });
      if (existing) return existing.kid;
      return (await this.createKey(tx, tenant, alg, 'active', new Date(this.clock()), null)).kid;
    });
  }

  /** The algorithms of the tenant's live key tracks, with its access-token algorithm first. */
  async algorithmsInUse(tenant: string): Promise<JwsAlgorithm[]> {
    const rows = await this.db.prisma.signingKey.findMany({ where: { tenant, status: { in: ['next', 'active'] } }, select: { alg: true }, distinct: ['alg'] });
    return [...new Set([this.defaultAlg(tenant), ...rows.map((row) => row.alg as JwsAlgorithm)])];
  }

  /**
   * Starts a rotation of the `alg` track: a `next` key, published at once, signing from now + the propagation delay. If a
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
      activations.push(...(await this.promoteLocked(tx, tenant, now)));
      const rows = await this.liveRows(tx, tenant, alg);
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
   * Promotes the tenant's `next` keys (one per algorithm track) whose activation instant has come,
   * retiring the active key of the same track. Conditional under the tenant lock: however many replicas
   * call it, a key is promoted once and only the replica that promoted it gets (and announces) the
   * activation. Returns the activation of the tenant's access-token track, if any.
   */
  async promoteDue(tenant: string): Promise<KeyActivation | null> {
    const activations = await this.locked(tenant, (tx) => this.promoteLocked(tx, tenant, this.clock()));
    await this.announce(activations);
    return activations[0] ?? null;
  }

  private async promoteLocked(tx: Tx, tenant: string, now: number): Promise<KeyActivation[]> {
    const rows = await this.liveRows(tx, tenant);
    const activations: KeyActivation[] = [];
    // The access-token track first, so that callers wanting "the" activation find it at index 0.
    const algs = [...new Set(rows.map((row) => row.alg))].sort((a, b) => Number(b === this.defaultAlg(tenant)) - Number(a === this.defaultAlg(tenant)));
    for (const alg of algs) {
      const activation = await this.promoteTrackLocked(tx, tenant, rows.filter((row) => row.alg === alg), now);
      if (activation) activations.push(activation);
    }
    return activations;
  }

  private async promoteTrackLocked(tx: Tx, tenant: string, rows: SigningKey[], now: number): Promise<KeyActivation | null> {
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
  async activeSigner(tenant: string, alg: JwsAlgorithm = this.defaultAlg(tenant)): Promise<ActiveSigner> {
    const key = signerKey(tenant, alg);
    const cached = this.signers.get(key);
    if (cached && this.clock() < cached.until) return cached.signer;
    let loading = this.loadingSigners.get(key);
    if (!loading) {
      loading = this.loadSigner(tenant, alg).finally(() => this.loadingSigners.delete(key));
      this.loadingSigners.set(key, loading);
    }
    return loading;
  }

  private async loadSigner(tenant: string, alg: JwsAlgorithm): Promise<ActiveSigner> {
    // The cache's lifetime counts from before the read: a rotation committed after it is seen next time.
    const readAt = this.clock();
    let rows = await this.liveRows(this.db.prisma, tenant, alg);
    let current = signingKeyAt(rows.map(toState), readAt);
    if (!current && rows.length === 0) {
      // A track nobody has used yet (a client registered RS256 at run time): its first key signs at once.
      await this.ensureActiveKey(tenant, alg);
      rows = await this.liveRows(this.db.prisma, tenant, alg);
      current = signingKeyAt(rows.map(toState), readAt);
    }
    if (current?.status === 'next') {
      await this.promoteDue(tenant);
      rows = await this.liveRows(this.db.prisma, tenant, alg);
      current = signingKeyAt(rows.map(toState), readAt);
    }
    if (!current) throw new Error(`tenant ${tenant} has no active ${alg} signing key`);
    const row = rows.find((candidate) => candidate.kid === current.kid)!;
    const signer: ActiveSigner = { kid: row.kid, alg: row.alg as JwsAlgorithm, privateKey: this.privateKey(row) };
    this.signers.set(signerKey(tenant, alg), { signer, until: signerCacheUntil(rows.map(toState), readAt, this.timings.signerCacheMs) });
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

  /**
   * The tenant's keys of every track, newest first (at most `limit`), for operators. A `next` key whose
   * instant has come is promoted first, as when a replica fetches its signer: the rows then say what
   * the clock already decided (which key signs, until when a retired one is published).
   */
  async list(tenant: string, limit = 100): Promise<KeyRecord[]> {
    if (duePromotions((await this.liveRows(this.db.prisma, tenant)).map(toState), this.clock()).length > 0) await this.promoteDue(tenant);
    const now = this.clock();
    const rows = await this.db.prisma.signingKey.findMany({ where: { tenant }, orderBy: { createdAt: 'desc' }, take: limit });
    const published = new Set(publishedKeys(rows.map(toState), now).map((key) => key.kid));
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg as JwsAlgorithm,
      status: row.status as KeyStatus,
      published: published.has(row.kid),
      createdAt: row.createdAt,
      activatesAt: new Date(toState(row).activatesAt),
      retiredAt: row.retiredAt,
      publishUntil: row.publishUntil,
      rotationReason: row.rotationReason,
    }));
  }

  /** The pending rotation of a tenant, if any (for operators and tests). */
  async pending(tenant: string, alg: JwsAlgorithm = this.defaultAlg(tenant)): Promise<{ kid: string; activatesAt: Date } | null> {
    const rows = await this.liveRows(this.db.prisma, tenant, alg);
    const key = pendingKey(rows.map(toState), this.clock());
    return key && { kid: key.kid, activatesAt: new Date(key.activatesAt) };
  }

  /** The `next` and `active` keys of every tenant, as states per algorithm track (for the rotation schedule). */
  async liveStates(): Promise<Map<string, Map<JwsAlgorithm, KeyState[]>>> {
    const rows = await this.db.prisma.signingKey.findMany({
      where: { status: { in: ['next', 'active'] } },
      select: { kid: true, tenant: true, alg: true, status: true, activatesAt: true, createdAt: true, publishUntil: true },
    });
    const byTenant = new Map<string, Map<JwsAlgorithm, KeyState[]>>();
    for (const row of rows) {
      const tracks = byTenant.get(row.tenant) ?? new Map<JwsAlgorithm, KeyState[]>();
      const states = tracks.get(row.alg as JwsAlgorithm) ?? [];
      states.push(toState(row));
      tracks.set(row.alg as JwsAlgorithm, states);
      byTenant.set(row.tenant, tracks);
    }
    return byTenant;
  }

  /** The live keys of a tenant: of one algorithm track, or of all of them (promotion groups them itself). */
  private liveRows(client: Pick<Tx, 'signingKey'>, tenant: string, alg?: JwsAlgorithm): Promise<SigningKey[]> {
    return client.signingKey.findMany({ where: { tenant, ...(alg ? { alg } : {}), status: { in: ['next', 'active'] } }, orderBy: { createdAt: 'asc' } });
  }

  private defaultAlg(tenant: string): JwsAlgorithm {
    return this.options.tenantAlg?.(tenant) ?? 'ES256';
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

  /** The longest lifetime of a token this tenant may have issued: what its configuration allows, or any registered client's override. */
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
      for (const key of this.signers.keys()) if (key.startsWith(signerKey(activation.tenant, ''))) this.signers.delete(key);
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

function signerKey(tenant: string, alg: string): string {
  return `${tenant}\u0000${alg}`;
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
