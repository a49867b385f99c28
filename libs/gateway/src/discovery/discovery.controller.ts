import { GetJwks } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { GatewayTenants } from '../tenants.js';
import { authorizationServerMetadata } from './metadata.js';

/** RFC 8414 and OpenID Connect Discovery documents, and the tenant's JWKS. */
@Controller()
export class DiscoveryController {
  constructor(
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
    @Inject(ContractClient) private readonly messaging: ContractClient,
  ) {}

  @Get('t/:tenant/.well-known/openid-configuration')
  @Header('cache-control', 'public, max-age=300')
  openidConfiguration(@Param('tenant') tenant: string) {
    return this.metadata(tenant);
  }

  // RFC 8414 §3.1 inserts the well-known segment before the issuer's path; issuer-relative is common too.
  @Get(['t/:tenant/.well-known/oauth-authorization-server', '.well-known/oauth-authorization-server/t/:tenant'])
  @Header('cache-control', 'public, max-age=300')
  authorizationServer(@Param('tenant') tenant: string) {
    return this.metadata(tenant);
  }

  private metadata(tenant: string) {
    const issuer = this.tenants.issuer(tenant);
    return authorizationServerMetadata(issuer, this.tenants.get(tenant).clients.flatMap((client) => client.scopes));
  }

  @Get('t/:tenant/jwks')
  @Header('content-type', 'application/jwk-set+json')
  @Header('cache-control', 'public, max-age=60')
  async jwks(@Param('tenant') tenant: string) {
    this.tenants.issuer(tenant);
    return this.messaging.send(GetJwks, { tenant });
  }
}
