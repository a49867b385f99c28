import { BeginAuthorization, ContractError, RevokeConsent } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DECISIONS, FIELDS, hiddenFields } from '../pages/fields.js';
import { html, ownUrl } from '../pages/html.js';
import { layout } from '../pages/layout.js';
import { sendPage } from '../pages/reply.js';
import { CSRF_REFUSED, PageFailure, PageFlow, subjectOf } from './page-flow.js';

const REPEATED = new PageFailure(400, 'Invalid request', 'The app sent a parameter more than once (RFC 6749 §3.1). You have not been redirected.');
const REVOKE_FORM = 'consent-revoke';

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
 * §4.1.1, OIDC Core §3.1.2), the login and consent pages, and withdrawing consent. Every failure is
 * an error page; the browser goes to the client only through a location the token service built.
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
        // max_age / prompt=login not met by this session (the token service's backstop): sign in again.
        if (ContractError.is(error, 'invalid_request')) return this.flow.renderLogin(request, reply, tenant, interaction, { username: session.summary.user.username });
        throw error;
      }
    });
  }

  /** A confirmation form to withdraw the signed-in person's consent to one app. */
  @Get('consent/revoke')
  async revokeForm(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const clientId = singleValuedQuery(request.url).client_id;
      const session = await this.flow.session(request, tenant);
      if (!session) throw new PageFailure(401, 'Not signed in', 'Sign in to an app of this organisation first.');
      if (!clientId) throw new PageFailure(400, 'Bad request', 'Which app? (client_id is missing.)');
      const appName = this.flow.tenants.client(tenant, clientId)?.displayName ?? clientId;
      const csrfToken = this.flow.security.formToken(request, reply, tenant, REVOKE_FORM);
      const page = layout({
        title: 'Withdraw access?',
        tenantName: this.flow.tenants.displayName(tenant),
        body: html`<p><strong>${appName}</strong> will lose the access you gave it, including access while you are not using it.</p>
<form method="post" action="${ownUrl(`/t/${tenant}/consent/revoke`)}">
${hiddenFields(csrfToken)}<input type="hidden" name="client_id" value="${clientId}">
<button type="submit">Withdraw access</button>
</form>`,
      });
      return sendPage(reply, page);
    });
  }

  /** Withdraws consent (token `revoke-consent`: the client's refresh-token families die with it). */
  @Post('consent/revoke')
  async revoke(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      if (!this.flow.security.verifyPost(request, tenant, REVOKE_FORM, form).ok) throw CSRF_REFUSED;
      const session = await this.flow.session(request, tenant);
      if (!session) throw new PageFailure(401, 'Not signed in', 'Your session has ended. Sign in again.');
      const clientId = form.client_id;
      if (!clientId) throw new PageFailure(400, 'Bad request', 'Which app? (client_id is missing.)');
      await this.flow.messaging.send(RevokeConsent, { tenant, clientId, userId: session.summary.user.id });
      const page = layout({
        title: 'Access withdrawn',
        tenantName: this.flow.tenants.displayName(tenant),
        body: html`<p role="status">The app no longer has the access you gave it. It will ask again next time.</p>`,
      });
      return sendPage(reply, page);
    });
  }
}
