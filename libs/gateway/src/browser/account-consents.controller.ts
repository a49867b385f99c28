import { type ConsentSummary, ListConsents, RevokeConsent } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountPaths, type AllowedBy, CLIENT_ID_FIELD, consentsPage, type WithdrawNotice } from '../pages/account.js';
import { sendPage } from '../pages/reply.js';
import { ACCOUNT_NAME } from './account.controller.js';
import { type BrowserSession, CSRF_REFUSED, PageFlow } from './page-flow.js';
import type { Continuation } from './sign-in.js';

const CONSENTS: Continuation = { kind: 'account-consents' };

/** The CSRF form id of the form that withdraws one app's access: a token cannot withdraw another app. */
export function withdrawFormId(clientId: string): string {
  return `consent-withdraw:${clientId}`;
}

/**
 * How an app of the list got its access. Only the device grant gives refresh tokens without remembering
 * consent (the authorization-code flow remembers it before the code exists), so an app that holds
 * refresh tokens but no remembered consent was paired with a code.
 */
export function allowedBy(app: ConsentSummary): AllowedBy {
  return !app.rememberedConsent && app.offlineAccess ? 'code' : 'sign-in';
}

/**
 * `/t/{t}/account/consents` (ADR 0013): the apps that hold access for the signed-in person (token
 * `list-consents`, for the session's user only: remembered consents and live refresh tokens, such as a
 * TV paired on `/device`) and, per app, a CSRF-protected form that withdraws its access (token
 * `revoke-consent`: the remembered consent, if any, and the app's refresh-token families of that user).
 * Without a session, the stand-alone sign-in comes first and returns here.
 */
@Controller('t/:tenant')
export class AccountConsentsController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  @Get('account/consents')
  async list(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const session = await this.flow.session(request, tenant);
      if (!session) return this.flow.renderSignIn(request, reply, tenant, CONSENTS, ACCOUNT_NAME);
      const { consents } = await this.flow.messaging.send(ListConsents, { tenant, userId: session.summary.user.id });
      return this.render(request, reply, tenant, session, consents);
    });
  }

  /**
   * Withdraws one of the person's own consents, named by `client_id`. Only an app the list shows can be
   * withdrawn (the user is always the session's), and the page is rendered directly, as the other
   * account pages do: posting it again withdraws nothing more.
   */
  @Post('account/consents')
  async withdraw(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      const clientId = form[CLIENT_ID_FIELD] ?? '';
      if (!this.flow.security.verifyPost(request, tenant, withdrawFormId(clientId), form).ok) throw CSRF_REFUSED;
      const session = await this.flow.session(request, tenant);
      // The session ended while the page was open: sign in, then choose again on the fresh list.
      if (!session) return this.flow.renderSignIn(request, reply, tenant, CONSENTS, ACCOUNT_NAME);
      const userId = session.summary.user.id;
      const { consents } = await this.flow.messaging.send(ListConsents, { tenant, userId });
      const target = consents.find((consent) => consent.clientId === clientId);
      if (!target) return this.render(request, reply, tenant, session, consents, { kind: 'nothing-to-withdraw' });
      await this.flow.messaging.send(RevokeConsent, { tenant, clientId, userId });
      const remaining = consents.filter((consent) => consent !== target);
      return this.render(request, reply, tenant, session, remaining, { kind: 'withdrawn', clientName: target.clientName });
    });
  }

  private render(request: FastifyRequest, reply: FastifyReply, tenant: string, session: BrowserSession, consents: readonly ConsentSummary[], notice?: WithdrawNotice): FastifyReply {
    const paths = accountPaths(tenant);
    const tokens = this.flow.security.formTokens(
      request,
      reply,
      tenant,
      consents.map((consent) => withdrawFormId(consent.clientId)),
    );
    const apps = consents.map((consent, index) => ({
      clientId: consent.clientId,
      clientName: consent.clientName,
      scopes: consent.scopes,
      grantedAt: consent.grantedAt,
      allowedBy: allowedBy(consent),
      csrfToken: tokens[index] as string,
    }));
    const page = consentsPage({
      tenantName: this.flow.tenants.displayName(tenant),
      username: session.summary.user.username,
      apps,
      action: paths.consents,
      nav: paths,
      ...(notice ? { notice } : {}),
    });
    return sendPage(reply, page);
  }
}
