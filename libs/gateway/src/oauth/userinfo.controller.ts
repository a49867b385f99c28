import { ContractError, GetUserClaims } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Get, Headers, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BEARER_STATUS, bearerChallenge, type ChallengeError, parseBearerHeader, scopesOf, verifyBearer } from '../auth/bearer.js';
import { isFormBody } from '../http/form-body.js';
import { GatewayTenants } from '../tenants.js';
import { delegationsOf, wantsDelegations, withDelegations } from './userinfo-delegations.js';

/** RFC 6750 §3 with an OAuth JSON body: userinfo is an OAuth-family endpoint, not the admin API. */
function challenge(reply: FastifyReply, realm: string, error?: ChallengeError): FastifyReply {
  reply.code(error ? BEARER_STATUS[error.code] : 401).header('www-authenticate', bearerChallenge(realm, error)).header('cache-control', 'no-store').header('pragma', 'no-cache');
  return error ? reply.send({ error: error.code, error_description: error.description }) : reply.send();
}

/**
 * OIDC Core §5.3 userinfo: the bearer access token (RFC 6750 §2.1 header, or §2.2 form body on POST)
 * is verified by the token service; it must carry `openid`; the claims come from identity by scope.
 * With the `delegations` scope on a person's own token, the `delegations` claim is added (issue #5).
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
    const header = parseBearerHeader(authorization);
    if (header.kind === 'malformed') return challenge(reply, realm, { code: 'invalid_request', description: 'malformed Authorization header' });
    if (header.kind === 'token') {
      // RFC 6750 §2: one method per request.
      if (formToken !== undefined) return challenge(reply, realm, { code: 'invalid_request', description: 'the token was sent in more than one way' });
      token = header.token;
    }
    if (!token) return challenge(reply, realm);
    const verified = await verifyBearer(this.messaging, tenant, token);
    if (!verified.active) return challenge(reply, realm, { code: 'invalid_token', description: verified.description });
    const scopes = scopesOf(verified.claims);
    if (!scopes.includes('openid')) return challenge(reply, realm, { code: 'insufficient_scope', description: 'the access token lacks the openid scope', scope: 'openid' });
    let claims: Record<string, unknown>;
    try {
      ({ claims } = await this.messaging.send(GetUserClaims, { tenant, userId: verified.claims.sub, scopes }));
    } catch (error) {
      // The token outlived its user (deleted or disabled).
      if (ContractError.is(error, 'not_found')) return challenge(reply, realm, { code: 'invalid_token', description: 'the access token no longer represents an active user' });
      throw error;
    }
    // Asked only once the user is known to be active: delegated tokens are minted here, never for a ghost.
    if (wantsDelegations(verified.claims, scopes)) claims = withDelegations(claims, await delegationsOf(this.messaging, tenant, verified.claims));
    return reply.code(200).header('cache-control', 'no-store').header('pragma', 'no-cache').send(claims);
  }
}
