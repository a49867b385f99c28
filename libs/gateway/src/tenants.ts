import { issuerOf } from '@latchkey/config';
import { ContractError } from '@latchkey/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_OPTIONS, type GatewayOptions } from './gateway.options.js';

/** The tenants this gateway serves; anything else is a 404 before any service is asked. */
@Injectable()
export class GatewayTenants {
  private readonly ids: ReadonlySet<string>;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.ids = new Set(options.tenants.tenants.map((tenant) => tenant.id));
  }

  /** The tenant's issuer; throws `tenant_not_found` for an unknown tenant. */
  issuer(tenant: string): string {
    if (!this.ids.has(tenant)) throw new ContractError('tenant_not_found', 'unknown tenant');
    return issuerOf(this.options.publicUrl, tenant);
  }
}
