import type { TenantConfig } from '@latchkey/config';

/**
 * The longest lifetime (seconds) the tenants file lets a tenant give a token it signs: how long a key
 * retired now must stay in the JWKS (docs/adr/0010). Every signed token's lifetime comes from one of
 * these settings:
 * - access tokens of users and registered clients: the client's `accessTokenTtlSeconds`, else the
 *   tenant's (grants/client-credentials.grant.ts, tokens/user-tokens.ts);
 * - ID tokens: the lifetime of the access token issued with them (tokens/user-tokens.ts);
 * - device tokens: the device type's `accessTokenTtlSeconds`, else the tenant's (clients/device-clients.ts);
 * - delegated tokens: `delegation.tokenTtlSeconds`, cut to the grant's end (delegation/delegated-tokens.ts).
 * Clients registered in the database rather than the file are counted by `SigningKeys` itself.
 */
export function longestConfiguredTokenLifetimeSeconds(tenant: TenantConfig): number {
  return Math.max(
    tenant.accessTokenTtlSeconds,
    tenant.delegation.tokenTtlSeconds,
    ...tenant.clients.map((client) => client.accessTokenTtlSeconds ?? 0),
    ...tenant.deviceTypes.map((type) => type.accessTokenTtlSeconds ?? 0),
  );
}
