import { EndSession, GetJwks } from '@latchkey/contracts';
import { decodeJwt, type JwsAlgorithm, publicKeyFromJwk, verifyJwtSignature } from '@latchkey/crypto';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loggedOutPage } from '../pages/error.js';
import { FIELDS, hiddenFields } from '../pages/fields.js';
import { html, ownUrl } from '../pages/html.js';
import { layout } from '../pages/layout.js';
import { sendPage } from '../pages/reply.js';
import { singleValuedQuery } from './authorize.controller.js';
import { CSRF_REFUSED, PageFailure, PageFlow } from './page-flow.js';
import { sidOf } from './page-security.js';

const ID_TOKEN_ALGS: readonly JwsAlgorithm[] = ['ES256', 'RS256'];
const LOGOUT_FORM = 'logout';
const INVALID_LOGOUT = (why: string) => new PageFailure(400, 'Invalid sign-out request', `${why} You have not been redirected.`);

interface IdTokenHint {
  clientId: string;
  sid?: string;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0: `id_token_hint`, `client_id`, `post_logout_redirect_uri`,
 * `state`. The redirect target must be registered for the client — Latchkey's registry has no
 * post-logout URIs yet, so only one of the client's registered redirect URIs, exactly (ADR 0013).
 * Without a hint that names this browser's session the person confirms first (§2: the OP SHOULD ask),
 * so another site cannot sign them out.
 */
@Controller('t/:tenant/oauth2')
export class LogoutController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  @Get('logout')
  async get(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      return await this.logout(tenant, singleValuedQuery(request.url), false, request, reply);
    });
  }

  @Post('logout')
  async post(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      // The confirmation form of this page carries a CSRF token; a relying party's POST does not.
      const confirmed = form[FIELDS.csrf] !== undefined;
      if (confirmed && !this.flow.security.verifyPost(request, tenant, LOGOUT_FORM, form).ok) throw CSRF_REFUSED;
      return await this.logout(tenant, form, confirmed, request, reply);
    });
  }

  private async logout(tenant: string, params: Record<string, string>, confirmed: boolean, request: FastifyRequest, reply: FastifyReply) {
    const hint = params.id_token_hint !== undefined ? await this.verifyHint(tenant, params.id_token_hint) : undefined;
    if (hint && params.client_id !== undefined && params.client_id !== hint.clientId) throw INVALID_LOGOUT('client_id does not match the ID token.');
    const clientId = hint?.clientId ?? params.client_id;
    const target = params.post_logout_redirect_uri;
    if (target !== undefined) {
      if (clientId === undefined) throw INVALID_LOGOUT('post_logout_redirect_uri needs id_token_hint or client_id.');
      const client = this.flow.tenants.client(tenant, clientId);
      if (!client?.redirectUris.includes(target)) throw INVALID_LOGOUT('post_logout_redirect_uri is not registered for this app.');
    }
    const sessionId = this.flow.security.sessionId(request, tenant);
    const ownSession = hint?.sid !== undefined && sessionId !== undefined && hint.sid === sidOf(sessionId);
    if (!confirmed && sessionId !== undefined && !ownSession) return this.confirm(request, reply, tenant, params, target, clientId);

    if (sessionId !== undefined) await this.flow.messaging.send(EndSession, { tenant, sessionId });
    this.flow.security.clearSession(reply, tenant);
    if (target === undefined) return sendPage(reply, loggedOutPage({ tenantName: this.flow.tenants.displayName(tenant) }));
    const location = new URL(target);
    if (params.state !== undefined) location.searchParams.set('state', params.state);
    return reply.code(303).headers({ 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' }).header('location', location.href).send();
  }

  /** "Sign out?" with the validated parameters carried through the form. */
  private confirm(request: FastifyRequest, reply: FastifyReply, tenant: string, params: Record<string, string>, target: string | undefined, clientId: string | undefined) {
    const csrfToken = this.flow.security.formToken(request, reply, tenant, LOGOUT_FORM);
    const carried = (['client_id', 'post_logout_redirect_uri', 'state'] as const).flatMap((name) => {
      const value = name === 'client_id' ? clientId : params[name];
      return value === undefined ? [] : [html`<input type="hidden" name="${name}" value="${value}">`];
    });
    const page = layout({
      title: 'Sign out?',
      tenantName: this.flow.tenants.displayName(tenant),
      body: html`<p>Do you want to sign out of ${this.flow.tenants.displayName(tenant)}?</p>
<form method="post" action="${ownUrl(`/t/${tenant}/oauth2/logout`)}">
${hiddenFields(csrfToken)}${carried}
<button type="submit">Sign out</button>
</form>`,
    });
    return sendPage(reply, page, target ? { formActionTargets: [target] } : {});
  }

  /**
   * The ID token this OP issued to the client (RP-Initiated Logout §2): signature by a key of the
   * tenant's JWKS (ES256 / RS256 only: `none` and HMAC cannot verify), `iss`. An expired token is
   * accepted, as the specification allows.
   */
  private async verifyHint(tenant: string, token: string): Promise<IdTokenHint> {
    const invalid = INVALID_LOGOUT('The ID token hint is not valid.');
    const jwt = token.length <= 8192 ? decodeJwt(token) : undefined;
    if (!jwt || !ID_TOKEN_ALGS.includes(jwt.header.alg)) throw invalid;
    const { keys } = await this.flow.messaging.send(GetJwks, { tenant });
    const jwk = keys.find((key) => key.kid === jwt.header.kid && key.alg === jwt.header.alg);
    if (!jwk || !verifyJwtSignature(jwt, publicKeyFromJwk(jwk as import('node:crypto').JsonWebKey), jwt.header.alg)) throw invalid;
    const { iss, aud, azp, sid } = jwt.payload;
    if (iss !== this.flow.tenants.issuer(tenant)) throw invalid;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    const clientId = typeof azp === 'string' ? azp : audiences.length === 1 ? audiences[0] : undefined;
    if (clientId === undefined || !audiences.includes(clientId)) throw invalid;
    return { clientId, ...(typeof sid === 'string' ? { sid } : {}) };
  }
}
