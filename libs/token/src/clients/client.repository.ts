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

  constructor(
    private readonly db: TokenDatabase,
    private readonly cacheTtlMs: number,
  ) {}

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
  }
}
