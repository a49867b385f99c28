import { ContractError } from '@latchkey/contracts';
import type { TenantConfig, TenantsFile } from './tenants.js';

/** The tenants this deployment serves: a request for any other is `tenant_not_found`. */
export class TenantDirectory {
  private readonly byId: Map<string, TenantConfig>;

  constructor(file: TenantsFile) {
    this.byId = new Map(file.tenants.map((tenant) => [tenant.id, tenant]));
  }

  get(tenant: string): TenantConfig {
    const found = this.byId.get(tenant);
    if (!found) throw new ContractError('tenant_not_found', `unknown tenant ${tenant}`);
    return found;
  }

  all(): TenantConfig[] {
    return [...this.byId.values()];
  }
}
