import { AddDeviceCredential, ChangeDeviceStatus, CreateDevice, type DeviceAction, GetDeviceAudit, IssueClaimCode, ListDevices, RevokeDeviceCredential, UpdateDevice } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { CurrentDecision, type RouteDecision } from '../policy/route-policy-gate.js';
import { GatewayTenants } from '../tenants.js';
import { ApiRoute } from './api-route.js';
import { idParam, jsonBody, queryEntries } from './input.js';
import { auditRequest, listDevicesRequest, nextLink } from './list-query.js';
import { OPERATIONS } from './operations.js';
import { AddCredentialBody, ClaimCodeBody, CreateDeviceBody, ReasonBody, UpdateDeviceBody } from './schemas.js';

/**
 * The device admin API (`/t/{t}/admin/v1/devices…`, ADR 0018): validates the request at the edge with
 * the contracts' schemas, sends the device contract with the caller as the actor, and answers with
 * the registry's reply. Registry errors become problems through `http-errors.ts`. The guard's policy
 * step has already decided (and, for a device route, fetched the device: unknown → 404).
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DevicesAdminController {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
  ) {}

  @ApiRoute(OPERATIONS.createDevice)
  async create(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const created = await this.messaging.send(CreateDevice, { tenant, actor, device: jsonBody(CreateDeviceBody, request, body) });
    reply.header('location', `${this.collection(tenant)}/${created.device.id}`);
    return created;
  }

  @ApiRoute(OPERATIONS.listDevices)
  async list(@CurrentPrincipal() { tenant }: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const entries = queryEntries(request);
    const page = await this.messaging.send(ListDevices, listDevicesRequest(tenant, entries));
    const link = nextLink(this.collection(tenant), entries, page.nextCursor);
    if (link) reply.header('link', link);
    return page;
  }

  /** The device and its credentials as the policy step fetched them: no second lookup. */
  @ApiRoute(OPERATIONS.getDevice)
  get(@CurrentDecision() { deviceWithCredentials }: RouteDecision) {
    if (!deviceWithCredentials) throw new Error('the policy step of getDevice fetches the device');
    return deviceWithCredentials;
  }

  @ApiRoute(OPERATIONS.updateDevice)
  update(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const deviceId = idParam(id);
    const { reason, ...changes } = jsonBody(UpdateDeviceBody, request, body, { mediaTypes: OPERATIONS.updateDevice.body.mediaTypes });
    return this.messaging.send(UpdateDevice, { tenant, actor, deviceId, changes, ...(reason !== undefined ? { reason } : {}) });
  }

  @ApiRoute(OPERATIONS.activateDevice)
  activate(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    return this.changeStatus(principal, 'activate', id, request, body);
  }

  @ApiRoute(OPERATIONS.suspendDevice)
  suspend(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    return this.changeStatus(principal, 'suspend', id, request, body);
  }

  @ApiRoute(OPERATIONS.reactivateDevice)
  reactivate(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    return this.changeStatus(principal, 'reactivate', id, request, body);
  }

  @ApiRoute(OPERATIONS.decommissionDevice)
  decommission(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    return this.changeStatus(principal, 'decommission', id, request, body);
  }

  @ApiRoute(OPERATIONS.addCredential)
  async addCredential(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const deviceId = idParam(id);
    const { reason, ...credential } = jsonBody(AddCredentialBody, request, body);
    const added = await this.messaging.send(AddDeviceCredential, { tenant, actor, deviceId, credential, ...(reason !== undefined ? { reason } : {}) });
    // Credentials have no URL of their own: the device's page lists them.
    reply.header('location', `${this.collection(tenant)}/${deviceId}`);
    return added;
  }

  @ApiRoute(OPERATIONS.revokeCredential)
  revokeCredential(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Param('credentialId') credentialId: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const deviceId = idParam(id);
    const { reason } = jsonBody(ReasonBody, request, body, { optional: true });
    return this.messaging.send(RevokeDeviceCredential, { tenant, actor, deviceId, credentialId: idParam(credentialId, 'credential'), ...(reason !== undefined ? { reason } : {}) });
  }

  @ApiRoute(OPERATIONS.deviceAudit)
  async audit(@CurrentPrincipal() { tenant }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const deviceId = idParam(id);
    const entries = queryEntries(request);
    const page = await this.messaging.send(GetDeviceAudit, auditRequest(tenant, deviceId, entries));
    const link = nextLink(`${this.collection(tenant)}/${deviceId}/audit`, entries, page.nextCursor);
    if (link) reply.header('link', link);
    return page;
  }

  @ApiRoute(OPERATIONS.issueClaimCode)
  issueClaimCode(@CurrentPrincipal() { tenant, actor }: Principal, @Param('id') id: string, @Req() request: FastifyRequest, @Body() body: unknown) {
    const deviceId = idParam(id);
    const { ttlSeconds } = jsonBody(ClaimCodeBody, request, body, { optional: true });
    return this.messaging.send(IssueClaimCode, { tenant, actor, deviceId, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
  }

  private changeStatus({ tenant, actor }: Principal, action: DeviceAction, id: string, request: FastifyRequest, body: unknown) {
    const deviceId = idParam(id);
    const { reason } = jsonBody(ReasonBody, request, body, { optional: true });
    return this.messaging.send(ChangeDeviceStatus, { tenant, actor, deviceId, action, ...(reason !== undefined ? { reason } : {}) });
  }

  private collection(tenant: string): string {
    return `${this.tenants.issuer(tenant)}/admin/v1/devices`;
  }
}
