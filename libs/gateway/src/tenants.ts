import { type ClientConfig, issuerOf, type TenantConfig } from '@latchkey/config';
import { ContractError } from '@latchkey/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_OPTIONS, type GatewayOptions } from './gateway.options.js';

/** The tenants this gateway serves; anything else is a 404 before any service is asked. */
@Injectable()
export class GatewayTenants {
  private readonly byId: ReadonlyMap<string, TenantConfig>;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.byId = new Map(options.tenants.tenants.map((tenant) => [tenant.id, tenant]));
  }

  /** The tenant's issuer; throws `tenant_not_found` for an unknown tenant. */
  issuer(tenant: string): string {
    this.get(tenant);
    return issuerOf(this.options.publicUrl, tenant);
  }

  /** The tenant's configuration; throws `tenant_not_found` for an unknown tenant. */
  get(tenant: string): TenantConfig {
    const found = this.byId.get(tenant);
    if (!found) throw new ContractError('tenant_not_found', 'unknown tenant');
    return found;
  }

  /** What the pages show as the tenant's name. */
  displayName(tenant: string): string {
    const config = this.get(tenant);
    return config.displayName ?? config.id;
  }

  /** A client declared in the tenants file (the registry the gateway can see without asking). */
  client(tenant: string, clientId: string): ClientConfig | undefined {
    return this.get(tenant).clients.find((client) => client.clientId === clientId);
  }
}
