import { randomBytes } from 'node:crypto';
import { ACR_PASSWORD, type AuthenticationContextClass, type AuthenticationMethod, type UserSummary } from '@latchkey/contracts';
import type { Clock } from '../clock.js';
import type { PasswordHasher } from '../users/password-hasher.js';
import { authenticationFailed } from './authentication-failed.js';
import { addressKey, type LoginThrottle } from './login-throttle.js';

export interface PasswordLoginUsers {
  findWithPasswordHash(tenant: string, username: string): Promise<{ user: UserSummary; passwordHash: string } | null>;
}

export interface OtpEnrolment {
  isEnrolled(tenant: string, userId: string): Promise<boolean>;
}

export interface PasswordLoginResult {
  user: UserSummary;
  amr: AuthenticationMethod[];
  acr: AuthenticationContextClass;
  authTime: number;
  otpRequired: boolean;
}

/**
 * Username + password sign-in. Throttled per account (username) and per client address; every failure
 * is the same error. An unknown user — or one without a usable password — is checked against a dummy
 * argon2id hash made with the current parameters, so the answer takes as long as for a real user.
 */
export class PasswordLogin {
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: PasswordLoginUsers,
    private readonly passwords: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly otp: OtpEnrolment,
    private readonly clock: Clock,
  ) {}

  /** Computes the dummy hash ahead of the first sign-in (else the first unknown user costs two hashes). */
  async warmUp(): Promise<void> {
    await this.dummy();
  }

  async authenticate(request: { tenant: string; username: string; password: string; clientIp: string }): Promise<PasswordLoginResult> {
    const attempt = await this.throttle.begin(request.tenant, [
      { kind: 'ip', key: addressKey(request.clientIp) },
      { kind: 'account', key: request.username },
    ]);
    if (!attempt) throw authenticationFailed();

    const found = await this.users.findWithPasswordHash(request.tenant, request.username);
    const usable = found !== null && found.passwordHash.startsWith('$argon2');
    const verified = await this.passwords.verify(usable ? found.passwordHash : await this.dummy(), request.password);
    if (!found || !usable || !verified || found.user.status !== 'active') {
      await attempt.fail();
      throw authenticationFailed();
    }
    await attempt.succeed();
    return {
      user: found.user,
      amr: ['pwd'],
      acr: ACR_PASSWORD,
      authTime: Math.floor(this.clock() / 1000),
      otpRequired: await this.otp.isEnrolled(request.tenant, found.user.id),
    };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.passwords.hash(randomBytes(32).toString('base64url'));
    return this.dummyHash;
  }
}
