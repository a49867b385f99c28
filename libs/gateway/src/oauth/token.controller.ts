import { DeviceAuthorization, IntrospectToken, IssueToken, RevokeToken } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { formParams } from '../http/form-body.js';
import { HttpFailure } from '../http/http-errors.js';
import { claimedClientId, TokenRateLimiter } from '../rate-limit/token-rate-limit.js';
import { GatewayTenants } from '../tenants.js';
import { extractClientAuthentication } from './client-auth.js';

/** The token, introspection and revocation endpoints: parse the form, ask the token service. */
@Controller('t/:tenant/oauth2')
export class TokenController {
  /** The tenants' `rateLimits` (issue #7), per gateway replica: a controller is a singleton. */
  private readonly rateLimiter = new TokenRateLimiter();

  constructor(
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
    @Inject(ContractClient) private readonly messaging: ContractClient,
  ) {}

  /** RFC 6749 §3.2. */
  @Post('token')
  @HttpCode(200)
  async token(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    this.tenants.issuer(tenant);
    const params = formParams(body);
    // Before anything else is looked at, so that even malformed requests count.
    this.rateLimiter.check(this.tenants.get(tenant), claimedClientId(authorization, params));
    const { client, rest } = extractClientAuthentication(authorization, params);
    const { grant_type: grantType, ...parameters } = rest;
    if (!grantType) throw new HttpFailure(400, 'invalid_request', 'grant_type is required');
    const response = await this.messaging.send(IssueToken, { tenant, grantType, client, parameters });
    noStore(reply);
    return response;
  }

  /**
   * RFC 8628 §3.1: the client authenticates as at the token endpoint (a public client with its
   * `client_id`); the token service checks it may use the device grant and the scope.
   */
  @Post('device_authorization')
  @HttpCode(200)
  async deviceAuthorization(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    this.tenants.issuer(tenant);
    const { client, rest } = extractClientAuthentication(authorization, formParams(body));
    const response = await this.messaging.send(DeviceAuthorization, { tenant, client, parameters: rest.scope !== undefined ? { scope: rest.scope } : {} });
    noStore(reply);
    return response;
  }

  /** RFC 7662 §2. */
  @Post('introspect')
  @HttpCode(200)
  async introspect(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const response = await this.messaging.send(IntrospectToken, this.tokenOperation(tenant, authorization, body));
    noStore(reply);
    return response;
  }

  /** RFC 7009 §2.1: 200 with an empty body whether or not the token was valid. */
  @Post('revoke')
  @HttpCode(200)
  async revoke(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.messaging.send(RevokeToken, this.tokenOperation(tenant, authorization, body));
    noStore(reply);
    return '';
  }

  /** Introspection and revocation take the same request: a client, a token and an optional hint. */
  private tokenOperation(tenant: string, authorization: string | undefined, body: unknown) {
    this.tenants.issuer(tenant);
    const { client, rest } = extractClientAuthentication(authorization, formParams(body));
    if (!rest.token) throw new HttpFailure(400, 'invalid_request', 'token is required');
    return { tenant, client, token: rest.token, tokenTypeHint: rest.token_type_hint };
  }
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
