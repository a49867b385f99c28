import { BeginAuthorization, ContractError } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountPaths } from '../pages/account.js';
import { DECISIONS, FIELDS } from '../pages/fields.js';
import { redirectToOwnPage } from '../pages/reply.js';
import { CSRF_REFUSED, PageFailure, PageFlow, subjectOf } from './page-flow.js';

const REPEATED = new PageFailure(400, 'Invalid request', 'The app sent a parameter more than once (RFC 6749 §3.1). You have not been redirected.');

/** The query of a GET as one value per name; a repeated name is refused; empty values count as absent (RFC 6749 §3.1). */
export function singleValuedQuery(url: string): Record<string, string> {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const params: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (seen.has(name)) throw REPEATED;
    seen.add(name);
    if (value !== '') params[name] = value;
  }
  return params;
}

/**
 * The person-facing half of the authorization-code flow (ADR 0013): `/oauth2/authorize` (RFC 6749
 * §4.1.1, OIDC Core §3.1.2) and the login and consent pages; withdrawing consent is on the account
 * page (`account-consents.controller.ts`). Every failure is an error page; the browser goes to the
 * client only through a location the token service built.
 */
@Controller('t/:tenant')
export class AuthorizeController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  /** RFC 6749 §4.1.1; the token service validates, the gateway carries the person through. */
  @Get('oauth2/authorize')
  async authorize(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const parameters = singleValuedQuery(request.url);
      // A ContractError here (unknown client, redirect URI not registered) is an error page: no redirect.
      const begun = await this.flow.messaging.send(BeginAuthorization, { tenant, parameters });
      if (begun.outcome === 'redirect') {
        return reply.code(303).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).header('location', begun.location).send();
      }
      const { outcome: _outcome, ...interaction } = begun;
      return await this.flow.proceed(request, reply, tenant, interaction, await this.flow.session(request, tenant), { fresh: false, afterPost: false });
    });
  }

  /** Back to the login form of a pending interaction. */
  @Get('login')
  async loginForm(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const interaction = await this.flow.interaction(tenant, singleValuedQuery(request.url)[FIELDS.interaction]);
      return this.flow.renderLogin(request, reply, tenant, interaction, { username: interaction.loginHint });
    });
  }

  /**
   * `username` + `password` (identity `authenticate`), then `otp` when the account has a second factor
   * (`verify-otp`), then a session (cookie) and on to consent or the client. Every failure shows the
   * same message (ADR 0009: no user enumeration).
   */
  @Post('login')
  async login(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      const interactionId = form[FIELDS.interaction] ?? '';
      if (!this.flow.security.verifyPost(request, tenant, interactionId, form).ok) throw CSRF_REFUSED;
      const interaction = await this.flow.interaction(tenant, interactionId);
      const outcome = await this.flow.signIn(request, reply, tenant, form, interactionId);
      if (outcome.kind === 'form') return this.flow.renderLogin(request, reply, tenant, interaction, outcome.page);
      return await this.flow.proceed(request, reply, tenant, interaction, outcome.session, { fresh: true, afterPost: true });
    });
  }

  /** The consent page of a pending interaction (after the login POST, 303 here). */
  @Get('consent')
  async consentForm(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const interaction = await this.flow.interaction(tenant, singleValuedQuery(request.url)[FIELDS.interaction]);
      const session = await this.flow.session(request, tenant);
      if (!session) return this.flow.renderLogin(request, reply, tenant, interaction, { username: interaction.loginHint });
      return this.flow.renderConsent(request, reply, tenant, interaction, session);
    });
  }

  /** Allow → code (consent remembered for this client and user); Deny → `access_denied`. */
  @Post('consent')
  async consent(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      const interactionId = form[FIELDS.interaction] ?? '';
      if (!this.flow.security.verifyPost(request, tenant, interactionId, form).ok) throw CSRF_REFUSED;
      const interaction = await this.flow.interaction(tenant, interactionId);
      const decision = form[FIELDS.decision];
      if (decision === DECISIONS.deny) return await this.flow.finish(reply, tenant, interaction, { decision: 'deny', error: 'access_denied' }, true);
      if (decision !== DECISIONS.allow) throw new PageFailure(400, 'Bad request', 'Choose Allow or Deny.');
      const session = await this.flow.session(request, tenant);
      if (!session) return this.flow.renderLogin(request, reply, tenant, interaction, { username: interaction.loginHint });
      try {
        return await this.flow.finish(reply, tenant, interaction, { decision: 'approve', subject: subjectOf(session), remember: true }, true);
      } catch (error) {
        // The session predates the request and no longer meets max_age / prompt=login / select_account
        // (the token service's backstop; a sign-in during the request always meets them): sign in again.
        if (ContractError.is(error, 'invalid_request')) return this.flow.renderLogin(request, reply, tenant, interaction, { username: session.summary.user.username });
        throw error;
      }
    });
  }

  /**
   * The old address of "withdraw access", kept so that links to it still work: the account page lists
   * every app the person allowed and withdraws with a CSRF-protected POST there. It only ever changed
   * state through its POST, which is gone with its form; `client_id` is not carried along (the page
   * shows every app, and nothing from the query reaches the location).
   */
  @Get('consent/revoke')
  async revokeForm(@Param('tenant') tenant: string, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => redirectToOwnPage(reply, accountPaths(tenant).consents));
  }
}
