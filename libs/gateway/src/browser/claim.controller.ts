import { ClaimDevice, ContractError } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isClaimCodeFailure } from '../admin/claim-failure.js';
import { CLAIM_CODE_FAILED, claimDonePage, claimPage } from '../pages/claim.js';
import { FIELDS } from '../pages/fields.js';
import { sendPage } from '../pages/reply.js';
import { singleValuedQuery } from './authorize.controller.js';
import { type BrowserSession, CSRF_REFUSED, PageFlow } from './page-flow.js';
import { clientIpOf } from './page-security.js';
import { claimContinuation } from './sign-in.js';

/** The CSRF form id of the claim form (one per browser: the code is what the form posts). */
const CLAIM_FORM = 'claim';
/** What the sign-in page says the person signs in to. */
export const CLAIM_APP_NAME = 'add a device';
const MAX_TYPED_CODE = 64;

/**
 * `/t/{t}/claim` (the QR payload is `${issuer}/claim?code=…`): a signed-in person claims an unowned
 * device with its claim code (`device.v1.claim` with the socket IP for throttling). Without a session
 * the stand-alone sign-in comes first and returns here with the code. Every failing code gets the
 * same words, so the page never tells whether a code exists.
 */
@Controller('t/:tenant/claim')
export class ClaimController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  @Get()
  form(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const typed = singleValuedQuery(request.url)[FIELDS.claimCode];
      const code = typed !== undefined && typed.length <= MAX_TYPED_CODE ? typed : undefined;
      const session = await this.flow.session(request, tenant);
      if (!session) return this.flow.renderSignIn(request, reply, tenant, claimContinuation(code), CLAIM_APP_NAME);
      return this.render(request, reply, tenant, session, code);
    });
  }

  @Post()
  claim(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      if (!this.flow.security.verifyPost(request, tenant, CLAIM_FORM, form).ok) throw CSRF_REFUSED;
      const typed = (form[FIELDS.claimCode] ?? '').trim();
      const session = await this.flow.session(request, tenant);
      // The session ended while the form was open: sign in, then back to the form with the code.
      if (!session) return this.flow.renderSignIn(request, reply, tenant, claimContinuation(typed), CLAIM_APP_NAME);
      if (!typed || typed.length > MAX_TYPED_CODE) return this.render(request, reply, tenant, session, undefined, CLAIM_CODE_FAILED);
      try {
        const { device } = await this.flow.messaging.send(ClaimDevice, { tenant, userId: session.summary.user.id, code: typed, clientIp: clientIpOf(request) });
        const type = this.flow.tenants.get(tenant).deviceTypes.find((entry) => entry.type === device.type)?.displayName ?? device.type;
        return sendPage(reply, claimDonePage({ tenantName: this.flow.tenants.displayName(tenant), serial: device.serial, type }));
      } catch (error) {
        if (isClaimCodeFailure(error) || ContractError.is(error, 'rate_limited')) return this.render(request, reply, tenant, session, typed, CLAIM_CODE_FAILED);
        throw error;
      }
    });
  }

  private render(request: FastifyRequest, reply: FastifyReply, tenant: string, session: BrowserSession, code?: string, error?: string): FastifyReply {
    const csrfToken = this.flow.security.formToken(request, reply, tenant, CLAIM_FORM);
    const page = claimPage({
      tenantName: this.flow.tenants.displayName(tenant),
      action: `/t/${tenant}/claim`,
      csrfToken,
      username: session.summary.user.username,
      ...(code ? { code } : {}),
      ...(error ? { error } : {}),
    });
    return sendPage(reply, page);
  }
}
