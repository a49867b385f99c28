import { describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { longestConfiguredTokenLifetimeSeconds } from './token-lifetimes.js';

const tenantOf = (yaml: string) => parseTenants(`tenants:\n  - id: demo\n${yaml}`).tenants[0]!;

describe('the longest token lifetime a tenant configures (key retirement, docs/adr/0010)', () => {
  it('is the tenant default when nothing else is longer (delegated tokens default to 300 s too)', () => {
    expect(longestConfiguredTokenLifetimeSeconds(tenantOf('    accessTokenTtlSeconds: 240'))).toBe(300);
    expect(longestConfiguredTokenLifetimeSeconds(tenantOf('    accessTokenTtlSeconds: 600'))).toBe(600);
  });

  it('counts a device type that lives longer than the tenant default', () => {
    const tenant = tenantOf(`    accessTokenTtlSeconds: 300
    deviceTypes:
      - { type: meter, accessTokenTtlSeconds: 1800 }
      - { type: lock }`);
    expect(longestConfiguredTokenLifetimeSeconds(tenant)).toBe(1800);
  });

  it('counts delegated tokens that live longer than the tenant default', () => {
    const tenant = tenantOf(`    accessTokenTtlSeconds: 120
    delegation: { tokenTtlSeconds: 900 }`);
    expect(longestConfiguredTokenLifetimeSeconds(tenant)).toBe(900);
  });

  it('counts a client of the file with its own lifetime', () => {
    const tenant = tenantOf(`    clients:
      - { clientId: batch, secret: s, grantTypes: [client_credentials], accessTokenTtlSeconds: 7200 }`);
    expect(longestConfiguredTokenLifetimeSeconds(tenant)).toBe(7200);
  });
});
