import { randomToken, sha256Hex } from '@latchkey/crypto';
import type { DeviceCode } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';
import { generateUserCode } from './user-codes.js';

export type DeviceCodeRow = DeviceCode;

/** RFC 8628 §3.5: every slow_down adds 5 s to the interval; this caps it so a broken client still gets answers. */
const SLOW_DOWN_STEP_SECONDS = 5;
const MAX_INTERVAL_SECONDS = 60;

export interface DeviceApproval {
  userId: string;
  authTime: number;
  amr: string[];
  acr: string;
  sessionId?: string | undefined;
}

export interface DeviceCodeIssue {
  accessTokenJti: string;
  accessTokenExpiresAt: Date;
  refreshFamilyId: string | null;
}

/**
 * RFC 8628 device authorizations. The device code (256 random bits) and the user code (normalised)
 * are stored only as SHA-256. State moves pending → approved | denied → (approved only) consumed, each
 * step one conditional UPDATE, so a code is decided once and consumed once.
 */
export class DeviceCodes {
  constructor(
    private readonly db: TokenDatabase,
    private readonly clock: Clock,
    readonly ttlSeconds: number,
    readonly intervalSeconds: number,
  ) {}

  /** `deviceType`: set when the client is a device of the registry (docs/adr/0017), null for a registered client. */
  async create(tenant: string, clientId: string, scopes: string[], deviceType: string | null = null): Promise<{ deviceCode: string; userCode: string; expiresAt: Date }> {
    const now = this.clock();
    const expiresAt = new Date(now + this.ttlSeconds * 1000);
    for (let attempt = 0; ; attempt++) {
      const deviceCode = randomToken();
      const userCode = generateUserCode();
      try {
        await this.db.prisma.deviceCode.create({
          data: {
            deviceCodeHash: sha256Hex(deviceCode),
            tenant,
            userCodeHash: sha256Hex(userCode),
            clientId,
            deviceType,
            scopes,
            createdAt: new Date(now),
            expiresAt,
            intervalSeconds: this.intervalSeconds,
            status: 'pending',
          },
        });
        return { deviceCode, userCode, expiresAt };
      } catch (error) {
        // A user-code collision within the tenant (about 2^-34 per live code): draw again.
        if (attempt < 4 && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') continue;
        throw error;
      }
    }
  }

  /** The device code's row in this tenant, whatever its state. */
  async findByDeviceCode(tenant: string, deviceCode: string): Promise<DeviceCodeRow | null> {
    const row = await this.db.prisma.deviceCode.findUnique({ where: { deviceCodeHash: sha256Hex(deviceCode) } });
    return row && row.tenant === tenant ? row : null;
  }

  /** A pending, unexpired authorization by its (normalised) user code, else null. */
  async findPendingByUserCode(tenant: string, canonicalUserCode: string): Promise<DeviceCodeRow | null> {
    const row = await this.db.prisma.deviceCode.findUnique({ where: { tenant_userCodeHash: { tenant, userCodeHash: sha256Hex(canonicalUserCode) } } });
    return row && row.status === 'pending' && !this.isExpired(row) ? row : null;
  }

  /** Records the user's decision on a pending, unexpired code; false when there is none (or it was decided already). */
  async decide(tenant: string, canonicalUserCode: string, approval: DeviceApproval | null): Promise<boolean> {
    const now = new Date(this.clock());
    const { count } = await this.db.prisma.deviceCode.updateMany({
      where: { tenant, userCodeHash: sha256Hex(canonicalUserCode), status: 'pending', expiresAt: { gt: now } },
      data: approval
        ? { status: 'approved', decidedAt: now, userId: approval.userId, authTime: approval.authTime, amr: approval.amr, acr: approval.acr, sessionId: approval.sessionId ?? null }
        : { status: 'denied', decidedAt: now },
    });
    return count === 1;
  }

  isExpired(row: DeviceCodeRow): boolean {
    return row.expiresAt.getTime() <= this.clock();
  }

  /**
   * RFC 8628 §3.5: records a poll; false when it came sooner than the interval after the previous one
   * (then the interval grows by 5 s for this and every later poll). Of two concurrent polls one is too fast.
   */
  async recordPoll(row: DeviceCodeRow): Promise<boolean> {
    const now = this.clock();
    const onPace = row.lastPolledAt === null || now - row.lastPolledAt.getTime() >= row.intervalSeconds * 1000;
    if (onPace) {
      const { count } = await this.db.prisma.deviceCode.updateMany({ where: { deviceCodeHash: row.deviceCodeHash, lastPolledAt: row.lastPolledAt }, data: { lastPolledAt: new Date(now) } });
      if (count === 1) return true;
    }
    await this.db.prisma.deviceCode.update({
      where: { deviceCodeHash: row.deviceCodeHash },
      data: { lastPolledAt: new Date(now), intervalSeconds: Math.min(row.intervalSeconds + SLOW_DOWN_STEP_SECONDS, MAX_INTERVAL_SECONDS) },
    });
    return false;
  }

  /** Consumes an approved code and records what it issued; false when another poll consumed it first. */
  async consume(row: DeviceCodeRow, issued: DeviceCodeIssue): Promise<boolean> {
    const { count } = await this.db.prisma.deviceCode.updateMany({
      where: { deviceCodeHash: row.deviceCodeHash, status: 'approved' },
      data: { status: 'consumed', consumedAt: new Date(this.clock()), ...issued },
    });
    return count === 1;
  }

  async reload(row: DeviceCodeRow): Promise<DeviceCodeRow | null> {
    return this.db.prisma.deviceCode.findUnique({ where: { deviceCodeHash: row.deviceCodeHash } });
  }

  /** Kept past expiry for a while, so a late poll still gets `expired_token` and a replay still revokes. */
  async sweepExpired(olderThan: Date): Promise<number> {
    const { count } = await this.db.prisma.deviceCode.deleteMany({ where: { expiresAt: { lt: olderThan } } });
    return count;
  }
}
