import { ContractError, GetUserClaims, VerifyAccessToken } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Get, Headers, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isFormBody } from '../http/form-body.js';
import { GatewayTenants } from '../tenants.js';

type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

const STATUS: Record<BearerError, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 };

/** RFC 6750 §3: the challenge of a protected resource; `error` absent when no token was sent at all (§3.1). */
function challenge(reply: FastifyReply, realm: string, error?: { code: BearerError; description: string; scope?: string }): FastifyReply {
  const parts = [`realm="${realm}"`];
  if (error) parts.push(`error="${error.code}"`, `error_description="${error.description}"`);
  if (error?.scope) parts.push(`scope="${error.scope}"`);
  reply.code(error ? STATUS[error.code] : 401).header('www-authenticate', `Bearer ${parts.join(', ')}`).header('cache-control', 'no-store').header('pragma', 'no-cache');
  return error ? reply.send({ error: error.code, error_description: error.description }) : reply.send();
}

/**
 * OIDC Core §5.3 userinfo: the bearer access token (RFC 6750 §2.1 header, or §2.2 form body on POST)
 * is verified by the token service; it must carry `openid`; the claims come from identity by scope.
 */
@Controller('t/:tenant/oauth2')
export class UserinfoController {
  constructor(
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
    @Inject(ContractClient) private readonly messaging: ContractClient,
  ) {}

  @Get('userinfo')
  get(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply) {
    return this.userinfo(tenant, authorization, undefined, reply);
  }

  @Post('userinfo')
  post(@Param('tenant') tenant: string, @Headers('authorization') authorization: string | undefined, @Body() body: unknown, @Res() reply: FastifyReply) {
    if (body !== undefined && body !== null && !isFormBody(body)) return challenge(reply, this.tenants.issuer(tenant), { code: 'invalid_request', description: 'the body must be application/x-www-form-urlencoded' });
    if (isFormBody(body) && body.repeated.length) return challenge(reply, this.tenants.issuer(tenant), { code: 'invalid_request', description: 'a parameter is repeated' });
    return this.userinfo(tenant, authorization, isFormBody(body) ? body.params.access_token : undefined, reply);
  }

  private async userinfo(tenant: string, authorization: string | undefined, formToken: string | undefined, reply: FastifyReply) {
    const realm = this.tenants.issuer(tenant);
    let token = formToken;
    if (authorization !== undefined) {
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
      if (!match) return challenge(reply, realm, { code: 'invalid_request', description: 'malformed Authorization header' });
      // RFC 6750 §2: one method per request.
      if (formToken !== undefined) return challenge(reply, realm, { code: 'invalid_request', description: 'the token was sent in more than one way' });
      token = match[1];
    }
    if (!token) return challenge(reply, realm);
    let verified;
    try {
      verified = await this.messaging.send(VerifyAccessToken, { tenant, token });
    } catch (error) {
      if (ContractError.is(error, 'invalid_request')) return challenge(reply, realm, { code: 'invalid_token', description: 'the access token is invalid' });
      throw error;
    }
    if (!verified.active) return challenge(reply, realm, { code: 'invalid_token', description: 'the access token is invalid, expired or revoked' });
    const scopes = verified.claims.scope?.split(' ').filter(Boolean) ?? [];
    if (!scopes.includes('openid')) return challenge(reply, realm, { code: 'insufficient_scope', description: 'the access token lacks the openid scope', scope: 'openid' });
    try {
      const { claims } = await this.messaging.send(GetUserClaims, { tenant, userId: verified.claims.sub, scopes });
      return reply.code(200).header('cache-control', 'no-store').header('pragma', 'no-cache').send(claims);
    } catch (error) {
      // The token outlived its user (deleted or disabled).
      if (ContractError.is(error, 'not_found')) return challenge(reply, realm, { code: 'invalid_token', description: 'the access token no longer represents an active user' });
      throw error;
    }
  }
}
