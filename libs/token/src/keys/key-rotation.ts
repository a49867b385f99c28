import type { ListSigningKeys, ParsedRequestOf, ReplyOf, RotateSigningKey } from '@latchkey/contracts';
import type { JwsAlgorithm } from '@latchkey/crypto';
import { Logger } from '@nestjs/common';
import type { TenantDirectory } from '@latchkey/config';
import type { Clock } from '../tokens/access-tokens.js';
import { duePromotions, type KeyState, rotationDue } from './key-states.js';
import type { SigningKeys } from './signing-keys.js';

/** How the token module rotates signing keys; every field has a default. */
export interface KeyRotationOptions {
  /** Scheduled rotation interval for every tenant (ms); default 30 days. */
  intervalMs?: number;
  /** Per-tenant overrides of `intervalMs`. */
  tenantIntervalsMs?: Record<string, number>;
  /** How long a new key is in the JWKS before it signs (ms); default 120 s (the gateway lets JWKS be cached 60 s). */
  propagationDelayMs?: number;
  /** Margin added to the longest token lifetime before a retired key leaves the JWKS (ms); default 5 min. */
  clockSkewMs?: number;
  /** How often the schedule looks for due rotations and promotions (ms); default 15 s. */
  checkIntervalMs?: number;
  /** Longest reuse of a cached signer (ms); capped at min(60 s, propagationDelayMs / 2). */
  signerCacheMs?: number;
}

export const DEFAULT_ROTATION_INTERVAL_MS = 30 * 24 * 3600_000;
export const DEFAULT_ROTATION_CHECK_MS = 15_000;

const logger = new Logger('KeyRotation');

/**
 * Signing-key rotation as use-cases: the admin operation, and the schedule that one timer per replica
 * drives. Replicas race freely: every decision is re-checked under the tenant's lock by `SigningKeys`.
 */
export class KeyRotation {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly keys: SigningKeys,
    private readonly tenants: TenantDirectory,
    private readonly options: KeyRotationOptions = {},
    private readonly clock: Clock = Date.now,
  ) {
    for (const [tenant, interval] of Object.entries({ default: this.options.intervalMs ?? DEFAULT_ROTATION_INTERVAL_MS, ...this.options.tenantIntervalsMs })) {
      if (!(interval > 0)) throw new Error(`key rotation interval of ${tenant} must be a positive number of ms`);
    }
  }

  /**
   * `latchkey.token.v1.rotate-signing-key`: rotates every algorithm track of the tenant (a suspected
   * compromise concerns them all) and answers with the access-token track's pending key.
   */
  async rotate(request: ParsedRequestOf<typeof RotateSigningKey>): Promise<ReplyOf<typeof RotateSigningKey>> {
    const tenant = this.tenants.get(request.tenant);
    const algs = await this.keys.algorithmsInUse(tenant.id);
    const rotations = [];
    // The only record of who rotated (the key row keeps the reason): the log.
    const by = request.actor ? ` by ${request.actor.type} ${request.actor.id}` : '';
    for (const alg of algs) {
      const rotation = await this.keys.rotate(tenant.id, alg, request.reason);
      if (rotation.created) logger.log(`tenant ${tenant.id}: ${alg} key ${rotation.kid} signs from ${rotation.activatesAt.toISOString()}${by}${request.reason ? ` (${request.reason})` : ''}`);
      rotations.push(rotation);
    }
    const primary = rotations[0]!;
    return { kid: primary.kid, activatesAt: primary.activatesAt.toISOString() };
  }

  /** `latchkey.token.v1.list-signing-keys`: the tenant's keys and their life cycle, for operators. */
  async list(request: ParsedRequestOf<typeof ListSigningKeys>): Promise<ReplyOf<typeof ListSigningKeys>> {
    const tenant = this.tenants.get(request.tenant);
    const iso = (date: Date | null) => date?.toISOString() ?? null;
    const keys = await this.keys.list(tenant.id);
    return {
      keys: keys.map((key) => ({
        kid: key.kid,
        alg: key.alg,
        status: key.status,
        published: key.published,
        createdAt: key.createdAt.toISOString(),
        activatesAt: key.activatesAt.toISOString(),
        retiredAt: iso(key.retiredAt),
        publishUntil: iso(key.publishUntil),
        rotationReason: key.rotationReason,
      })),
    };
  }

  intervalMs(tenant: string): number {
    return this.options.tenantIntervalsMs?.[tenant] ?? this.options.intervalMs ?? DEFAULT_ROTATION_INTERVAL_MS;
  }

  /**
   * One pass of the schedule: promotes due `next` keys and starts due rotations. One cheap read of all
   * live keys decides; only tenants with something to do take their lock (which decides again).
   */
  async tick(): Promise<void> {
    const states = await this.keys.liveStates();
    const now = this.clock();
    for (const tenant of this.tenants.all()) {
      const tracks = states.get(tenant.id) ?? new Map<JwsAlgorithm, KeyState[]>();
      try {
        // One promotion pass covers every track of the tenant.
        if ([...tracks.values()].some((keys) => duePromotions(keys, now).length > 0)) await this.keys.promoteDue(tenant.id);
        for (const [alg, keys] of tracks) {
          if (!rotationDue(keys, now, this.intervalMs(tenant.id))) continue;
          const rotation = await this.keys.rotateIfDue(tenant.id, alg, this.intervalMs(tenant.id));
          if (rotation?.created) logger.log(`tenant ${tenant.id}: scheduled rotation, ${alg} key ${rotation.kid} signs from ${rotation.activatesAt.toISOString()}`);
        }
      } catch (error) {
        logger.warn(`key rotation of tenant ${tenant.id} failed: ${String(error)}`);
      }
    }
  }

  start(): void {
    const every = this.options.checkIntervalMs ?? DEFAULT_ROTATION_CHECK_MS;
    this.timer = setInterval(() => {
      // A slow pass is never overlapped by the next one.
      this.running ??= this.tick()
        .catch((error: unknown) => logger.warn(`key rotation check failed: ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
