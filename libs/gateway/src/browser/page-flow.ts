import {
  ACR_PASSWORD,
  ACR_PASSWORD_AND_OTP,
  Authenticate,
  type AuthenticatedSubject,
  type AuthorizationInteraction,
  CheckConsent,
  CompleteAuthorization,
  ContractError,
  CreateSession,
  GetInteraction,
  GetSession,
  type SessionSummary,
  VerifyOtp,
} from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFormBody } from '../http/form-body.js';
import { accountPaths } from '../pages/account.js';
import { consentPage } from '../pages/consent.js';
import { errorPage, errorStatus } from '../pages/error.js';
import { FIELDS } from '../pages/fields.js';
import type { Html } from '../pages/html.js';
import { loginPage } from '../pages/login.js';
import { redirectAfterPost, sendPage } from '../pages/reply.js';
import { GatewayTenants } from '../tenants.js';
import { clientIpOf, PageSecurity, sidOf } from './page-security.js';
import { consentNeeded, reauthenticationReason } from './session-rules.js';
import { type Continuation, continuationKey, signInFormId } from './sign-in.js';

/** A password check is slow by design (argon2id) and queues under load: give it longer than the default. */
const CREDENTIAL_CHECK = { timeoutMs: 10_000 };

/** A failure a person sees as an error page (never a redirect). */
export class PageFailure extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const LOGIN_FAILED = 'The username or password is not correct, or sign-in is temporarily blocked. Try again later.';
export const OTP_FAILED = 'That code did not work. Enter the current code from your authenticator app.';
export const EXPIRED_INTERACTION = new PageFailure(400, 'Sign-in expired', 'This sign-in request has expired or was already used. Go back to the app and start again.');
export const CSRF_REFUSED = new PageFailure(403, 'Request refused', 'This form could not be verified (it may have expired, or come from another site). Go back to the app and start again.');

const KNOWN_ACR_VALUES = [ACR_PASSWORD, ACR_PASSWORD_AND_OTP];

/** The session a browser presents: its id and what identity says about it. */
export interface BrowserSession {
  sessionId: string;
  summary: SessionSummary;
}

/** What the login form shows again (a failure, or the `otp` step). */
export interface LoginFormState {
  username?: string;
  error?: string;
  otpRequired?: boolean;
}

/** The result of a login POST: a new session, or the form again. */
export type SignInOutcome = { kind: 'signed-in'; session: BrowserSession } | { kind: 'form'; page: LoginFormState };

/**
 * The steps the authorization, login and consent endpoints share (ADR 0013): look the interaction and
 * the session up, decide what comes next (login, consent or completion), and render pages with their
 * CSRF tokens and security headers.
 */
@Injectable()
export class PageFlow {
  constructor(
    @Inject(GatewayTenants) readonly tenants: GatewayTenants,
    @Inject(ContractClient) readonly messaging: ContractClient,
    @Inject(PageSecurity) readonly security: PageSecurity,
  ) {}

  /** The form fields of a page POST; repeated fields are refused. */
  formOf(body: unknown): Record<string, string> {
    if (!isFormBody(body) || body.repeated.length) throw new PageFailure(400, 'Bad request', 'The form could not be read. Go back and try again.');
    return { ...body.params };
  }

  /** The interaction a page acts on; an error page when it is gone. */
  async interaction(tenant: string, interactionId: string | undefined): Promise<AuthorizationInteraction> {
    if (!interactionId || interactionId.length > 200) throw EXPIRED_INTERACTION;
    try {
      return await this.messaging.send(GetInteraction, { tenant, interactionId });
    } catch (error) {
      if (ContractError.is(error, 'not_found') || ContractError.is(error, 'invalid_request')) throw EXPIRED_INTERACTION;
      throw error;
    }
  }

  /** The browser's live session of this tenant, or null. */
  async session(request: FastifyRequest, tenant: string): Promise<BrowserSession | null> {
    const sessionId = this.security.sessionId(request, tenant);
    if (!sessionId) return null;
    const { session } = await this.messaging.send(GetSession, { tenant, sessionId });
    return session ? { sessionId, summary: session } : null;
  }

  /**
   * The login POST after its CSRF check: `username` + `password` (identity `authenticate`), then `otp`
   * when the account has a second factor (`verify-otp`; who passed the password step is the signed
   * `login` cookie bound to `pendingKey`, never a form field), then a session and its cookie. Every
   * failure shows the same message (ADR 0009: no user enumeration).
   */
  async signIn(request: FastifyRequest, reply: FastifyReply, tenant: string, form: Record<string, string>, pendingKey: string): Promise<SignInOutcome> {
    const clientIp = clientIpOf(request);
    let authenticated: { userId: string; amr: ('pwd' | 'otp')[]; acr: 'urn:latchkey:loa:1' | 'urn:latchkey:loa:2' };
    if (form[FIELDS.otp] !== undefined) {
      const pending = this.security.pendingLogin(request, tenant, pendingKey);
      if (!pending) return { kind: 'form', page: { error: LOGIN_FAILED } };
      const code = form[FIELDS.otp].replace(/\s+/g, '');
      try {
        const verified = await this.messaging.send(VerifyOtp, { tenant, userId: pending.userId, code, clientIp }, CREDENTIAL_CHECK);
        authenticated = { userId: pending.userId, amr: verified.amr, acr: verified.acr };
      } catch (error) {
        if (!isAuthenticationFailure(error)) throw error;
        return { kind: 'form', page: { username: pending.username, otpRequired: true, error: OTP_FAILED } };
      }
      this.security.clearPendingLogin(reply, tenant);
    } else {
      const username = (form[FIELDS.username] ?? '').trim();
      const password = form[FIELDS.password] ?? '';
      if (!username || !password) return { kind: 'form', page: { username, error: LOGIN_FAILED } };
      let result;
      try {
        result = await this.messaging.send(Authenticate, { tenant, username, password, clientIp }, CREDENTIAL_CHECK);
      } catch (error) {
        if (!isAuthenticationFailure(error)) throw error;
        return { kind: 'form', page: { username, error: LOGIN_FAILED } };
      }
      if (result.otpRequired) {
        this.security.setPendingLogin(reply, tenant, { interactionId: pendingKey, userId: result.user.id, username: result.user.username });
        return { kind: 'form', page: { username: result.user.username, otpRequired: true } };
      }
      authenticated = { userId: result.user.id, amr: result.amr, acr: result.acr };
    }
    const created = await this.messaging.send(CreateSession, { tenant, ...authenticated });
    this.security.setSession(reply, tenant, created.sessionId, created.expiresAt);
    const { session } = await this.messaging.send(GetSession, { tenant, sessionId: created.sessionId });
    if (!session) throw new ContractError('internal', 'the new session is gone');
    return { kind: 'signed-in', session: { sessionId: created.sessionId, summary: session } };
  }

  /**
   * What comes after a session is known (OIDC Core §3.1.2.3–§3.1.2.4): sign in when the session cannot
   * answer, consent when it is missing or asked for, else the code. `prompt=none` never shows a page:
   * it ends with `login_required` / `consent_required`. `fresh` = the session was made in this
   * interaction (so `prompt=login` and `max_age` are already satisfied).
   */
  async proceed(request: FastifyRequest, reply: FastifyReply, tenant: string, interaction: AuthorizationInteraction, session: BrowserSession | null, options: { fresh: boolean; afterPost: boolean }): Promise<FastifyReply> {
    const none = interaction.prompt.includes('none');
    if (!options.fresh && reauthenticationReason(interaction, session?.summary ?? null, Math.floor(Date.now() / 1000), KNOWN_ACR_VALUES) !== undefined) {
      if (none) return this.finish(reply, tenant, interaction, { decision: 'deny', error: 'login_required' }, options.afterPost);
      return this.renderLogin(request, reply, tenant, interaction, { username: interaction.loginHint });
    }
    const live = session as BrowserSession;
    const { granted } = await this.messaging.send(CheckConsent, { tenant, clientId: interaction.clientId, userId: live.summary.user.id, scopes: interaction.scopes });
    if (consentNeeded(interaction, granted)) {
      if (none) return this.finish(reply, tenant, interaction, { decision: 'deny', error: 'consent_required' }, options.afterPost);
      if (options.afterPost) return redirectAfterPost(reply, `/t/${tenant}/consent?${new URLSearchParams({ [FIELDS.interaction]: interaction.interactionId })}`, { own: true });
      return this.renderConsent(request, reply, tenant, interaction, live);
    }
    try {
      return await this.finish(reply, tenant, interaction, { decision: 'approve', subject: subjectOf(live), remember: false }, options.afterPost);
    } catch (error) {
      // The token service's freshness backstop looks a moment later than the check above, so a
      // session right at max_age can pass here and fail there: that is a sign-in to ask for, not an
      // error page. A session made during this request always passes, so this cannot loop.
      if (options.fresh || !ContractError.is(error, 'invalid_request')) throw error;
      if (none) return this.finish(reply, tenant, interaction, { decision: 'deny', error: 'login_required' }, options.afterPost);
      return this.renderLogin(request, reply, tenant, interaction, { username: interaction.loginHint });
    }
  }

  /** Ends the interaction and sends the browser to the client (303 after a POST, 302 after a GET). */
  async finish(
    reply: FastifyReply,
    tenant: string,
    interaction: AuthorizationInteraction,
    completion: { decision: 'approve'; subject: AuthenticatedSubject; remember: boolean } | { decision: 'deny'; error?: 'access_denied' | 'login_required' | 'consent_required' },
    afterPost: boolean,
  ): Promise<FastifyReply> {
    let location: string;
    try {
      ({ location } = await this.messaging.send(CompleteAuthorization, { tenant, interactionId: interaction.interactionId, ...completion }));
    } catch (error) {
      if (ContractError.is(error, 'not_found')) throw EXPIRED_INTERACTION;
      throw error;
    }
    if (afterPost) return redirectAfterPost(reply, location);
    return reply.code(302).headers({ 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' }).header('location', location).send();
  }

  renderLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    tenant: string,
    interaction: AuthorizationInteraction,
    options: { username?: string; error?: string; otpRequired?: boolean; status?: number } = {},
  ): FastifyReply {
    const csrfToken = this.security.formToken(request, reply, tenant, interaction.interactionId);
    const page = loginPage({
      tenantName: this.tenants.displayName(tenant),
      clientName: interaction.clientName,
      action: `/t/${tenant}/login`,
      csrfToken,
      interactionId: interaction.interactionId,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.error !== undefined ? { error: options.error } : {}),
      ...(options.otpRequired ? { otpRequired: true } : {}),
    });
    return sendPage(reply, page, { status: options.status ?? 200, formActionTargets: [interaction.redirectUri] });
  }

  /** The login form of a sign-in outside an authorization request (device, account); ends at this gateway. */
  renderSignIn(request: FastifyRequest, reply: FastifyReply, tenant: string, continuation: Continuation, clientName: string, state: LoginFormState = {}): FastifyReply {
    const csrfToken = this.security.formToken(request, reply, tenant, signInFormId(continuation));
    const page = loginPage({
      tenantName: this.tenants.displayName(tenant),
      clientName,
      action: `/t/${tenant}/signin`,
      csrfToken,
      interactionId: continuationKey(continuation),
      ...(state.username !== undefined ? { username: state.username } : {}),
      ...(state.error !== undefined ? { error: state.error } : {}),
      ...(state.otpRequired ? { otpRequired: true } : {}),
    });
    return sendPage(reply, page);
  }

  renderConsent(request: FastifyRequest, reply: FastifyReply, tenant: string, interaction: AuthorizationInteraction, session: BrowserSession): FastifyReply {
    const csrfToken = this.security.formToken(request, reply, tenant, interaction.interactionId);
    const page = consentPage({
      tenantName: this.tenants.displayName(tenant),
      clientName: interaction.clientName,
      scopes: interaction.scopes,
      action: `/t/${tenant}/consent`,
      csrfToken,
      interactionId: interaction.interactionId,
      userDisplayName: session.summary.user.username,
      consentsUrl: accountPaths(tenant).consents,
    });
    return sendPage(reply, page, { formActionTargets: [interaction.redirectUri] });
  }

  /**
   * Runs a page handler of a known tenant; whatever it throws becomes the error page. Every page route
   * goes through here, so none can answer with a stack trace or forget the tenant check.
   */
  async page(reply: FastifyReply, tenant: string, handle: () => Promise<FastifyReply>): Promise<FastifyReply> {
    try {
      this.tenants.get(tenant);
      return await handle();
    } catch (error) {
      return this.renderError(reply, tenant, error);
    }
  }

  /** An error page for anything a page handler throws: never a stack trace, never a redirect. */
  renderError(reply: FastifyReply, tenant: string, error: unknown): FastifyReply {
    const failure = pageFailureOf(error);
    let tenantName: string | undefined;
    try {
      tenantName = this.tenants.displayName(tenant);
    } catch {
      tenantName = undefined;
    }
    return this.sendError(reply, failure, tenantName);
  }

  sendError(reply: FastifyReply, failure: PageFailure, tenantName?: string): FastifyReply {
    const page: Html = errorPage({ tenantName, title: failure.title, description: failure.description, status: failure.status });
    return sendPage(reply, page, { status: errorStatus(failure.status) });
  }
}

/** The approval's subject: the session's user and authentication, with the derived `sid`. */
export function subjectOf(session: BrowserSession): AuthenticatedSubject {
  const { summary } = session;
  return { userId: summary.user.id, authTime: summary.authTime, amr: summary.amr, acr: summary.acr, sessionId: sidOf(session.sessionId) };
}

/** ADR 0009: every sign-in failure is `invalid_grant`; a value outside the contract is `invalid_request`. */
function isAuthenticationFailure(error: unknown): boolean {
  return ContractError.is(error, 'invalid_grant') || ContractError.is(error, 'invalid_request');
}

/** Words for people for every failure of the page endpoints. */
export function pageFailureOf(error: unknown): PageFailure {
  if (error instanceof PageFailure) return error;
  if (error instanceof ContractError) {
    switch (error.code) {
      case 'tenant_not_found':
        return new PageFailure(404, 'Not found', 'There is no such organisation here.');
      case 'invalid_client':
        return new PageFailure(400, 'Unknown app', 'The app that sent you here is not registered. You have not been redirected.');
      case 'invalid_request':
        return new PageFailure(400, 'Invalid request', `The app sent an invalid sign-in request: ${error.message}. You have not been redirected.`);
      case 'not_found':
        return EXPIRED_INTERACTION;
      case 'unavailable':
        return new PageFailure(503, 'Temporarily unavailable', 'Sign-in is temporarily unavailable. Try again in a moment.');
      default:
        break;
    }
  }
  return new PageFailure(500, 'Something went wrong', 'An unexpected error occurred. Try again later.');
}
