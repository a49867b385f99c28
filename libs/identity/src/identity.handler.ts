import { Authenticate, ConfirmOtp, ContractError, CreateSession, EndSession, EnrolOtp, FindUser, GetSession, GetUser, GetUserClaims, type ParsedRequestOf, VerifyOtp } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { PasswordLogin } from './login/password-login.js';
import { OtpCredentials } from './otp/otp-credentials.js';
import { Sessions } from './sessions/sessions.js';
import { TenantDirectory } from '@latchkey/config';
import { Users } from './users/users.js';

/** NATS adapter: the contracts validate, the domain decides. */
@Controller()
export class IdentityHandler {
  constructor(
    @Inject(Users) private readonly users: Users,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(PasswordLogin) private readonly login: PasswordLogin,
    @Inject(OtpCredentials) private readonly otp: OtpCredentials,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  @Handles(FindUser)
  async findUser(request: ParsedRequestOf<typeof FindUser>) {
    return { user: await this.users.findByUsername(request.tenant, request.username) };
  }

  /** Roles and attributes of a user by id (the policy input of the gateway); a disabled user comes with its status. */
  @Handles(GetUser)
  async getUser(request: ParsedRequestOf<typeof GetUser>) {
    this.tenants.get(request.tenant);
    return { user: await this.users.authorization(request.tenant, request.userId) };
  }

  @Handles(Authenticate)
  authenticate(request: ParsedRequestOf<typeof Authenticate>) {
    this.tenants.get(request.tenant);
    return this.login.authenticate(request);
  }

  @Handles(VerifyOtp)
  verifyOtp(request: ParsedRequestOf<typeof VerifyOtp>) {
    return this.otp.verify(request.tenant, request.userId, request.code, request.clientIp);
  }

  @Handles(EnrolOtp)
  enrolOtp(request: ParsedRequestOf<typeof EnrolOtp>) {
    return this.otp.enrol(request.tenant, request.userId);
  }

  @Handles(ConfirmOtp)
  confirmOtp(request: ParsedRequestOf<typeof ConfirmOtp>) {
    return this.otp.confirm(request.tenant, request.userId, request.code, request.clientIp);
  }

  @Handles(CreateSession)
  createSession(request: ParsedRequestOf<typeof CreateSession>) {
    this.tenants.get(request.tenant);
    return this.sessions.create(request.tenant, request.userId, request.amr, request.acr);
  }

  @Handles(GetSession)
  async getSession(request: ParsedRequestOf<typeof GetSession>) {
    this.tenants.get(request.tenant);
    return { session: await this.sessions.get(request.tenant, request.sessionId) };
  }

  @Handles(EndSession)
  async endSession(request: ParsedRequestOf<typeof EndSession>) {
    this.tenants.get(request.tenant);
    return { ended: await this.sessions.end(request.tenant, request.sessionId) };
  }

  @Handles(GetUserClaims)
  async getUserClaims(request: ParsedRequestOf<typeof GetUserClaims>) {
    this.tenants.get(request.tenant);
    const claims = await this.users.claims(request.tenant, request.userId, request.scopes);
    if (!claims) throw new ContractError('not_found', 'no such active user');
    return { claims };
  }
}
