import { ConfirmOtp, ContractError, EnrolOtp } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountPaths, OTP_STEPS, otpConfirmPage, otpDonePage, otpStartPage } from '../pages/account.js';
import { FIELDS } from '../pages/fields.js';
import { redirectAfterPost, sendPage } from '../pages/reply.js';
import { CLAIM_APP_NAME } from './claim.controller.js';
import { CODE_NOT_VALID, lookupUserCode } from './device.controller.js';
import { deviceVerificationPage } from '../pages/device.js';
import { CSRF_REFUSED, PageFailure, PageFlow } from './page-flow.js';
import { clientIpOf } from './page-security.js';
import { type Continuation, continuationPath, parseContinuation, signInFormId } from './sign-in.js';

const OTP_FORM = 'account-otp';
const ACCOUNT: Continuation = { kind: 'account-otp' };
/** What the stand-alone sign-in of an account page says the person signs in to. */
export const ACCOUNT_NAME = 'your account';
const CODE_FAILED = 'That code did not work. Enter the current code from your authenticator app.';

/**
 * The stand-alone sign-in (ADR 0015): the login form of the device and account pages, which are not
 * part of an authorization request. Same steps and messages as `/login` (`PageFlow.signIn`); the form
 * names where to go next (`sign-in.ts`), bound to it by the CSRF token, and it ends with a 303 there.
 */
@Controller('t/:tenant')
export class AccountController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  @Post('signin')
  async signIn(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      const continuation = parseContinuation(form[FIELDS.interaction]);
      if (!continuation || !this.flow.security.verifyPost(request, tenant, signInFormId(continuation), form).ok) throw CSRF_REFUSED;
      const outcome = await this.flow.signIn(request, reply, tenant, form, signInFormId(continuation));
      if (outcome.kind === 'signed-in') return redirectAfterPost(reply, continuationPath(tenant, continuation), { own: true });
      if (continuation.kind === 'account-otp' || continuation.kind === 'account-consents') return this.flow.renderSignIn(request, reply, tenant, continuation, ACCOUNT_NAME, outcome.page);
      if (continuation.kind === 'claim') return this.flow.renderSignIn(request, reply, tenant, continuation, CLAIM_APP_NAME, outcome.page);
      const lookup = await lookupUserCode(this.flow, request, tenant, continuation.userCode);
      if (lookup) return this.flow.renderSignIn(request, reply, tenant, continuation, lookup.clientName, outcome.page);
      const csrfToken = this.flow.security.formToken(request, reply, tenant, 'device');
      return sendPage(reply, deviceVerificationPage({ tenantName: this.flow.tenants.displayName(tenant), action: `/t/${tenant}/device`, csrfToken, error: CODE_NOT_VALID }));
    });
  }

  /** TOTP enrolment of the signed-in person (sign in first when there is no session). */
  @Get('account/otp')
  async otpForm(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const session = await this.flow.session(request, tenant);
      if (!session) return this.flow.renderSignIn(request, reply, tenant, ACCOUNT, ACCOUNT_NAME);
      const csrfToken = this.flow.security.formToken(request, reply, tenant, OTP_FORM);
      const nav = accountPaths(tenant);
      return sendPage(reply, otpStartPage({ tenantName: this.flow.tenants.displayName(tenant), username: session.summary.user.username, action: nav.otp, csrfToken, nav }));
    });
  }

  /** `step=start` → identity `enrol-otp` (secret shown once); `step=confirm` + `otp` → `confirm-otp`. */
  @Post('account/otp')
  async otp(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      if (!this.flow.security.verifyPost(request, tenant, OTP_FORM, form).ok) throw CSRF_REFUSED;
      const session = await this.flow.session(request, tenant);
      if (!session) throw new PageFailure(401, 'Not signed in', 'Your session has ended. Sign in again.');
      const tenantName = this.flow.tenants.displayName(tenant);
      const userId = session.summary.user.id;
      const csrfToken = this.flow.security.formToken(request, reply, tenant, OTP_FORM);
      const nav = accountPaths(tenant);
      const action = nav.otp;
      if (form.step === OTP_STEPS.start) {
        try {
          const enrolment = await this.flow.messaging.send(EnrolOtp, { tenant, userId });
          return sendPage(reply, otpConfirmPage({ tenantName, action, csrfToken, secret: enrolment.secret, otpauthUri: enrolment.otpauthUri }));
        } catch (error) {
          if (ContractError.is(error, 'conflict')) return sendPage(reply, otpDonePage({ tenantName, alreadyEnrolled: true, nav }));
          throw error;
        }
      }
      if (form.step !== OTP_STEPS.confirm) throw new PageFailure(400, 'Bad request', 'The form could not be read. Go back and try again.');
      const code = (form[FIELDS.otp] ?? '').replace(/\s+/g, '');
      try {
        await this.flow.messaging.send(ConfirmOtp, { tenant, userId, code, clientIp: clientIpOf(request) }, { timeoutMs: 10_000 });
      } catch (error) {
        if (!ContractError.is(error, 'invalid_grant') && !ContractError.is(error, 'invalid_request')) throw error;
        return sendPage(reply, otpConfirmPage({ tenantName, action, csrfToken, error: CODE_FAILED }));
      }
      return sendPage(reply, otpDonePage({ tenantName, alreadyEnrolled: false, nav }));
    });
  }
}
