import type { ClientAuthenticationMethod, ClientJwks } from '@latchkey/contracts';
import { Prisma } from '../generated/prisma/client.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { IdTokenSigningAlg, OAuthClient } from './oauth-client.js';

/**
 * Client registrations, read through a short-lived cache: the token endpoint reads a client on every
 * request, and registrations change rarely.
 */
export class ClientRepository {
  private readonly cache = new Map<string, { client: OAuthClient | null; until: number }>();
  private readonly idsByTenant = new Map<string, { ids: Promise<ReadonlySet<string>>; until: number }>();

  constructor(
    private readonly db: TokenDatabase,
    private readonly cacheTtlMs: number,
  ) {}

  /**
   * Whether a client with this id is registered in the tenant, from a per-tenant set of client ids read
   * at most once per cache period: the device path (docs/adr/0017) asks this for every device token and
   * must not cost a database round trip each time. As stale as `find` at worst.
   */
  async isRegistered(tenant: string, clientId: string): Promise<boolean> {
    let entry = this.idsByTenant.get(tenant);
    if (!entry || entry.until <= Date.now()) {
      const ids = this.db.prisma.oAuthClient.findMany({ where: { tenant }, select: { clientId: true } }).then((rows) => new Set(rows.map((row) => row.clientId)));
      entry = { ids, until: Date.now() + this.cacheTtlMs };
      this.idsByTenant.set(tenant, entry);
      // A failed read is not remembered: the next request tries again.
      ids.catch(() => {
        if (this.idsByTenant.get(tenant) === entry) this.idsByTenant.delete(tenant);
      });
    }
    return (await entry.ids).has(clientId);
  }

  async find(tenant: string, clientId: string): Promise<OAuthClient | null> {
    const key = `${tenant}\u0000${clientId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.client;
    const row = await this.db.prisma.oAuthClient.findUnique({ where: { tenant_clientId: { tenant, clientId } } });
    const client: OAuthClient | null = row && {
      tenant: row.tenant,
      clientId: row.clientId,
      displayName: row.displayName,
      secretHash: row.secretHash,
      authMethods: row.authMethods as ClientAuthenticationMethod[],
      grantTypes: row.grantTypes,
      scopes: row.scopes,
      redirectUris: row.redirectUris,
      accessTokenTtlSeconds: row.accessTokenTtlSeconds,
      idTokenSignedResponseAlg: row.idTokenSignedResponseAlg as IdTokenSigningAlg,
      refreshTokenAbsoluteLifetimeSeconds: row.refreshTokenAbsoluteLifetimeSeconds,
      refreshTokenIdleLifetimeSeconds: row.refreshTokenIdleLifetimeSeconds,
      // Validated (public keys only) when the registration was written.
      jwks: (row.jwks as ClientJwks | null) ?? null,
    };
    this.cache.set(key, { client, until: Date.now() + this.cacheTtlMs });
    return client;
  }

  async upsertFromConfig(client: OAuthClient): Promise<void> {
    const data = {
      displayName: client.displayName,
      secretHash: client.secretHash,
      authMethods: client.authMethods,
      grantTypes: client.grantTypes,
      scopes: client.scopes,
      redirectUris: client.redirectUris,
      accessTokenTtlSeconds: client.accessTokenTtlSeconds,
      idTokenSignedResponseAlg: client.idTokenSignedResponseAlg,
      refreshTokenAbsoluteLifetimeSeconds: client.refreshTokenAbsoluteLifetimeSeconds,
      refreshTokenIdleLifetimeSeconds: client.refreshTokenIdleLifetimeSeconds,
      jwks: client.jwks === null ? Prisma.DbNull : (client.jwks as unknown as Prisma.InputJsonValue),
      managedBy: 'config',
    };
    await this.db.prisma.oAuthClient.upsert({
      where: { tenant_clientId: { tenant: client.tenant, clientId: client.clientId } },
      create: { tenant: client.tenant, clientId: client.clientId, ...data },
      update: data,
    });
    this.cache.delete(`${client.tenant}\u0000${client.clientId}`);
    this.idsByTenant.delete(client.tenant);
  }
}
