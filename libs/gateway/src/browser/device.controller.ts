import { ContractError, DecideDeviceCode, LookupUserCode } from '@latchkey/contracts';
import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { deviceConfirmPage, deviceDonePage, deviceVerificationPage, formatUserCode, normalizeUserCode } from '../pages/device.js';
import { DECISIONS, FIELDS } from '../pages/fields.js';
import { sendPage } from '../pages/reply.js';
import { singleValuedQuery } from './authorize.controller.js';
import { CSRF_REFUSED, PageFailure, PageFlow, subjectOf } from './page-flow.js';
import { clientIpOf } from './page-security.js';
import { deviceContinuation } from './sign-in.js';

/** The CSRF form id of the code-entry form (one per browser: it acts on no particular interaction). */
const ENTRY_FORM = 'device';
/** The same words for an unknown, expired, decided or malformed code and for a locked-out IP (RFC 8628 §5.1). */
export const CODE_NOT_VALID = 'That code is not valid. Check the code on your device and try again.';
const MAX_TYPED_CODE = 64;

type Lookup = { clientId: string; clientName: string; scopes: string[] };

/**
 * RFC 8628 §3.3 user interaction (ADR 0015): `/t/{t}/device` takes the code a device shows, looks it
 * up (`lookup-user-code` with the socket IP, throttled by the token service), asks the person to sign
 * in when the browser has no session (the stand-alone login comes back to `/device/confirm`), shows
 * the app, its scopes in plain words and the code to compare, and records Allow / Deny
 * (`decide-device-code` with the session's subject). The device picks the answer up by polling.
 */
@Controller('t/:tenant/device')
export class DeviceController {
  constructor(@Inject(PageFlow) private readonly flow: PageFlow) {}

  /** The code-entry page, pre-filled from `verification_uri_complete` (`?user_code=`). */
  @Get()
  entry(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const userCode = singleValuedQuery(request.url)[FIELDS.userCode];
      return this.renderEntry(request, reply, tenant, userCode !== undefined && userCode.length <= MAX_TYPED_CODE ? userCode : undefined);
    });
  }

  /** The typed code: looked up, then sign-in (no session) or the confirmation page. */
  @Post()
  async submit(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      if (!this.flow.security.verifyPost(request, tenant, ENTRY_FORM, form).ok) throw CSRF_REFUSED;
      return await this.continueWith(request, reply, tenant, form[FIELDS.userCode] ?? '');
    });
  }

  /** Where the stand-alone sign-in comes back to (303 after its POST). */
  @Get('confirm')
  async confirmForm(@Param('tenant') tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      return await this.continueWith(request, reply, tenant, singleValuedQuery(request.url)[FIELDS.userCode] ?? '');
    });
  }

  /** Allow → approve with the session's subject; Deny → deny. Then the done page. */
  @Post('confirm')
  async confirm(@Param('tenant') tenant: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.flow.page(reply, tenant, async () => {
      const form = this.flow.formOf(body);
      const continuation = deviceContinuation(form[FIELDS.userCode] ?? '');
      if (!continuation || continuation.kind !== 'device' || !this.flow.security.verifyPost(request, tenant, confirmFormId(continuation.userCode), form).ok) throw CSRF_REFUSED;
      const decision = form[FIELDS.decision];
      if (decision !== DECISIONS.allow && decision !== DECISIONS.deny) throw new PageFailure(400, 'Bad request', 'Choose Allow or Deny.');
      const session = await this.flow.session(request, tenant);
      if (!session) return await this.continueWith(request, reply, tenant, continuation.userCode);
      try {
        await this.flow.messaging.send(DecideDeviceCode, {
          tenant,
          userCode: continuation.userCode,
          ...(decision === DECISIONS.allow ? { decision: 'approve' as const, subject: subjectOf(session) } : { decision: 'deny' as const }),
        });
      } catch (error) {
        if (ContractError.is(error, 'not_found')) return this.renderEntry(request, reply, tenant, undefined, CODE_NOT_VALID);
        throw error;
      }
      return sendPage(reply, deviceDonePage({ tenantName: this.flow.tenants.displayName(tenant), approved: decision === DECISIONS.allow }));
    });
  }

  /** Looks the code up; a miss is the entry page with the one message; else sign-in or confirmation. */
  private async continueWith(request: FastifyRequest, reply: FastifyReply, tenant: string, typed: string): Promise<FastifyReply> {
    const lookup = await lookupUserCode(this.flow, request, tenant, typed);
    const continuation = lookup && deviceContinuation(typed);
    if (!lookup || !continuation || continuation.kind !== 'device') return this.renderEntry(request, reply, tenant, typed.length <= MAX_TYPED_CODE ? typed : undefined, CODE_NOT_VALID);
    const session = await this.flow.session(request, tenant);
    if (!session) return this.flow.renderSignIn(request, reply, tenant, continuation, lookup.clientName);
    return this.renderConfirm(request, reply, tenant, continuation.userCode, lookup);
  }

  private renderEntry(request: FastifyRequest, reply: FastifyReply, tenant: string, userCode?: string, error?: string): FastifyReply {
    const csrfToken = this.flow.security.formToken(request, reply, tenant, ENTRY_FORM);
    const page = deviceVerificationPage({
      tenantName: this.flow.tenants.displayName(tenant),
      action: `/t/${tenant}/device`,
      csrfToken,
      ...(userCode ? { userCode } : {}),
      ...(error ? { error } : {}),
    });
    return sendPage(reply, page);
  }

  private renderConfirm(request: FastifyRequest, reply: FastifyReply, tenant: string, userCode: string, lookup: Lookup): FastifyReply {
    const csrfToken = this.flow.security.formToken(request, reply, tenant, confirmFormId(userCode));
    const page = deviceConfirmPage({
      tenantName: this.flow.tenants.displayName(tenant),
      clientName: lookup.clientName,
      scopes: lookup.scopes,
      userCode: formatUserCode(userCode),
      action: `/t/${tenant}/device/confirm`,
      csrfToken,
    });
    return sendPage(reply, page);
  }
}

/** `lookup-user-code` with the socket IP, or undefined for anything the token service refuses to name. */
export async function lookupUserCode(flow: PageFlow, request: FastifyRequest, tenant: string, typed: string): Promise<Lookup | undefined> {
  const userCode = typed.trim();
  if (!userCode || userCode.length > MAX_TYPED_CODE) return undefined;
  try {
    return await flow.messaging.send(LookupUserCode, { tenant, userCode, clientIp: clientIpOf(request) });
  } catch (error) {
    if (ContractError.is(error, 'not_found') || ContractError.is(error, 'invalid_request')) return undefined;
    throw error;
  }
}

/** The confirmation form is bound to its user code: a token for one code cannot decide another. */
function confirmFormId(userCode: string): string {
  return `device:${normalizeUserCode(userCode)}`;
}
