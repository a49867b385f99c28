import { CreateGrant, DeclineGrant, GetGrant, ListGrants, RevokeGrant } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiRoute } from '../admin/api-route.js';
import { idParam, jsonBody, queryEntries } from '../admin/input.js';
import { nextLink } from '../admin/list-query.js';
import { OPERATIONS } from '../admin/operations.js';
import { ReasonBody } from '../admin/schemas.js';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { GatewayTenants } from '../tenants.js';
import { createGrantRequest, listGrantsRequest, withReason } from './requests.js';
import { CreateGrantBody } from './schemas.js';

/**
 * The delegations API (`/t/{t}/v1/delegations…`, issue #5): a person shares a device, lists, reads,
 * revokes what they shared and declines what was shared with them. The delegation service decides
 * (ownership, scopes, re-delegation, visibility); its errors become problems through `http-errors.ts`.
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DelegationsController {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
  ) {}

  @ApiRoute(OPERATIONS.createDelegation)
  async create(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const created = await this.messaging.send(CreateGrant, createGrantRequest(tenant, actor, jsonBody(CreateGrantBody, request, body)));
    reply.header('location', `${this.collection(tenant)}/${created.grant.id}`);
    return created;
  }

  @ApiRoute(OPERATIONS.listDelegations)
  async list(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const entries = queryEntries(request);
    const page = await this.messaging.send(ListGrants, listGrantsRequest(tenant, actor, entries));
    const link = nextLink(this.collection(tenant), entries, page.nextCursor);
    if (link) reply.header('link', link);
    return page;
  }

  @ApiRoute(OPERATIONS.getDelegation)
  get(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string) {
    return this.messaging.send(GetGrant, { tenant, grantId: idParam(id, 'grant'), actor, admin: false });
  }

  @ApiRoute(OPERATIONS.revokeDelegation)
  revoke(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const grantId = idParam(id, 'grant');
    const { reason } = jsonBody(ReasonBody, request, body, { optional: true });
    return this.messaging.send(RevokeGrant, { tenant, grantId, actor, admin: false, ...withReason(reason) });
  }

  @ApiRoute(OPERATIONS.declineDelegation)
  decline(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const grantId = idParam(id, 'grant');
    const { reason } = jsonBody(ReasonBody, request, body, { optional: true });
    return this.messaging.send(DeclineGrant, { tenant, grantId, actor, ...withReason(reason) });
  }

  /** Administrators (`delegations:admin`): any grant of the tenant; the audit trail names them. */
  @ApiRoute(OPERATIONS.adminRevokeDelegation)
  adminRevoke(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const grantId = idParam(id, 'grant');
    const { reason } = jsonBody(ReasonBody, request, body, { optional: true });
    return this.messaging.send(RevokeGrant, { tenant, grantId, actor, admin: true, ...withReason(reason) });
  }

  private collection(tenant: string): string {
    return `${this.tenants.issuer(tenant)}/v1/delegations`;
  }
}
