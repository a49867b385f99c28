import { GetJwks } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { GatewayTenants } from '../tenants.js';
import { authorizationServerMetadata } from './metadata.js';

/** RFC 8414 and OpenID Connect Discovery documents, and the tenant's JWKS. */
@Controller('t/:tenant')
export class DiscoveryController {
  constructor(
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
    @Inject(ContractClient) private readonly messaging: ContractClient,
  ) {}

  @Get('.well-known/openid-configuration')
  @Header('cache-control', 'public, max-age=300')
  openidConfiguration(@Param('tenant') tenant: string) {
    return authorizationServerMetadata(this.tenants.issuer(tenant));
  }

  @Get('.well-known/oauth-authorization-server')
  @Header('cache-control', 'public, max-age=300')
  authorizationServer(@Param('tenant') tenant: string) {
    return authorizationServerMetadata(this.tenants.issuer(tenant));
  }

  @Get('jwks')
  @Header('content-type', 'application/jwk-set+json')
  @Header('cache-control', 'public, max-age=60')
  async jwks(@Param('tenant') tenant: string) {
    this.tenants.issuer(tenant);
    return this.messaging.send(GetJwks, { tenant });
  }
}
