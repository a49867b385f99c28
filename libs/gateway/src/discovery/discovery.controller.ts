import { GetJwks } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { authzenConfiguration } from '../authzen/schemas.js';
import { GatewayTenants } from '../tenants.js';
import { authorizationServerMetadata } from './metadata.js';

/** RFC 8414 and OpenID Connect Discovery documents, the AuthZEN PDP metadata, and the tenant's JWKS. */
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

  // OpenID AuthZEN PDP metadata: the well-known segment goes before the PDP identifier's path (as in
  // RFC 8414); issuer-relative as for the OpenID configuration too.
  @Get(['.well-known/authzen-configuration/t/:tenant', 't/:tenant/.well-known/authzen-configuration'])
  @Header('cache-control', 'public, max-age=300')
  authzenConfiguration(@Param('tenant') tenant: string) {
    return authzenConfiguration(this.tenants.issuer(tenant));
  }

  @Get('t/:tenant/jwks')
  @Header('content-type', 'application/jwk-set+json')
  @Header('cache-control', 'public, max-age=60')
  async jwks(@Param('tenant') tenant: string) {
    this.tenants.issuer(tenant);
    return this.messaging.send(GetJwks, { tenant });
  }
}
