import { randomBytes } from 'node:crypto';
import { ACR_PASSWORD_AND_OTP, type AuthenticationContextClass, type AuthenticationMethod, ContractError } from '@latchkey/contracts';
import type { KeyEncryption } from '@latchkey/crypto';
import type { Clock } from '../clock.js';
import type { IdentityDatabase } from '../identity.prisma.js';
import { authenticationFailed } from '../login/authentication-failed.js';
import { addressKey, type LoginThrottle } from '../login/login-throttle.js';
import type { TenantDirectory } from '@latchkey/config';
import { base32Encode, matchingStep, otpauthUri } from './totp.js';

/** RFC 4226 §4 asks for at least 128 bits and recommends 160: the length of an HMAC-SHA1 key block. */
const SECRET_BYTES = 20;

/**
 * TOTP credentials (RFC 6238): enrolment, confirmation by the first code, verification as the second
 * factor. Secrets are stored encrypted under the key-encryption key, bound to tenant and user. A code
 * is accepted once: the accepted step is recorded and only a later one passes.
 */
export class OtpCredentials {
  constructor(
    private readonly db: IdentityDatabase,
    private readonly tenants: TenantDirectory,
    private readonly keyEncryption: KeyEncryption | undefined,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
  ) {}

  async isEnrolled(tenant: string, userId: string): Promise<boolean> {
    const row = await this.db.prisma.totpCredential.findFirst({ where: { userId, tenant, confirmedAt: { not: null } }, select: { userId: true } });
    return row !== null;
  }

  /** A new pending secret, replacing an earlier pending one; returned this once. */
  async enrol(tenant: string, userId: string): Promise<{ secret: string; otpauthUri: string }> {
    const tenantConfig = this.tenants.get(tenant);
    const kek = this.requireKeyEncryption();
    const user = await this.db.prisma.user.findFirst({ where: { id: userId, tenant, status: 'active' }, include: { totp: true } });
    if (!user) throw new ContractError('not_found', 'no such active user');
    if (user.totp?.confirmedAt) throw new ContractError('conflict', 'the user already has a confirmed one-time password credential');
    const secret = randomBytes(SECRET_BYTES);
    const secretCiphertext = new Uint8Array(kek.encrypt(secret, associatedData(tenant, userId)));
    const now = new Date(this.clock());
    if (user.totp) {
      // Only a pending credential is replaced: one confirmed meanwhile keeps its secret.
      const { count } = await this.db.prisma.totpCredential.updateMany({
        where: { userId, tenant, confirmedAt: null },
        data: { secretCiphertext, createdAt: now, lastUsedStep: null },
      });
      if (count === 0) throw new ContractError('conflict', 'the user already has a confirmed one-time password credential');
    } else {
      await this.db.prisma.totpCredential.create({ data: { userId, tenant, secretCiphertext, createdAt: now } }).catch((error: unknown) => {
        if ((error as { code?: unknown }).code === 'P2002') throw new ContractError('conflict', 'an enrolment is already under way');
        throw error;
      });
    }
    const issuer = tenantConfig.displayName ?? tenant;
    return { secret: base32Encode(secret), otpauthUri: otpauthUri(issuer, user.username, secret) };
  }

  /** The first code from the app confirms the pending credential. */
  async confirm(tenant: string, userId: string, code: string, clientIp: string): Promise<{ confirmed: true }> {
    this.tenants.get(tenant);
    await this.check(tenant, userId, code, clientIp, 'pending');
    return { confirmed: true };
  }

  /** The second factor. */
  async verify(tenant: string, userId: string, code: string, clientIp: string): Promise<{ amr: AuthenticationMethod[]; acr: AuthenticationContextClass; authTime: number }> {
    this.tenants.get(tenant);
    await this.check(tenant, userId, code, clientIp, 'confirmed');
    return { amr: ['pwd', 'otp'], acr: ACR_PASSWORD_AND_OTP, authTime: Math.floor(this.clock() / 1000) };
  }

  private async check(tenant: string, userId: string, code: string, clientIp: string, state: 'pending' | 'confirmed'): Promise<void> {
    const attempt = await this.throttle.begin(tenant, [
      { kind: 'ip', key: addressKey(clientIp) },
      { kind: 'otp', key: userId },
    ]);
    if (!attempt) throw authenticationFailed();
    const accepted = await this.accept(tenant, userId, code, state).catch(async (error: unknown) => {
      await attempt.fail();
      throw error;
    });
    if (!accepted) {
      await attempt.fail();
      throw authenticationFailed();
    }
    await attempt.succeed();
  }

  private async accept(tenant: string, userId: string, code: string, state: 'pending' | 'confirmed'): Promise<boolean> {
    if (!this.keyEncryption) return false;
    const row = await this.db.prisma.totpCredential.findFirst({ where: { userId, tenant, user: { status: 'active' } } });
    if (!row || (state === 'confirmed') !== (row.confirmedAt !== null)) return false;
    let secret: Buffer;
    try {
      secret = this.keyEncryption.decrypt(Buffer.from(row.secretCiphertext), associatedData(tenant, userId));
    } catch {
      return false;
    }
    const now = this.clock();
    const step = matchingStep(secret, code, now);
    if (step === null) return false;
    // Compare-and-set on the last accepted step: a replayed (or concurrently presented) code loses.
    const { count } = await this.db.prisma.totpCredential.updateMany({
      where: {
        userId,
        tenant,
        confirmedAt: state === 'confirmed' ? { not: null } : null,
        secretCiphertext: row.secretCiphertext,
        OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }],
      },
      data: { lastUsedStep: step, ...(state === 'pending' ? { confirmedAt: new Date(now) } : {}) },
    });
    return count === 1;
  }

  private requireKeyEncryption(): KeyEncryption {
    if (!this.keyEncryption) throw new ContractError('unavailable', 'one-time passwords are not configured in this deployment');
    return this.keyEncryption;
  }
}

function associatedData(tenant: string, userId: string): string {
  return `latchkey:identity:totp:${tenant}:${userId}`;
}
