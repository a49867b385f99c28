import { resolveFromEnv, type TenantConfig } from '@latchkey/config';
import { sha256Hex } from '@latchkey/crypto';
import type { ClientRepository } from '../clients/client.repository.js';
import type { SigningKeys } from '../keys/signing-keys.js';

/**
 * Brings the token schema in line with the tenants file: a signing key per tenant and algorithm in use, the declared
 * clients. Idempotent, so every replica runs it at start. Clients absent from the file are left alone:
 * removing one is an explicit act, not a side effect of a typo in the file.
 */
export class TokenReconciler {
  constructor(
    private readonly keys: SigningKeys,
    private readonly clients: ClientRepository,
  ) {}

  async reconcile(tenants: TenantConfig[]): Promise<void> {
    for (const tenant of tenants) {
      await this.keys.ensureActiveKey(tenant.id, tenant.signingAlg);
      // One key track per further algorithm a client registered for its ID tokens (docs/adr/0012).
      for (const alg of new Set(tenant.clients.map((client) => client.idTokenSignedResponseAlg))) {
        if (alg !== tenant.signingAlg) await this.keys.ensureActiveKey(tenant.id, alg);
      }
      for (const client of tenant.clients) {
        const secret = resolveFromEnv(client.secret, client.secretFromEnv);
        await this.clients.upsertFromConfig({
          tenant: tenant.id,
          clientId: client.clientId,
          displayName: client.displayName ?? null,
          secretHash: client.secretHash ?? (secret === undefined ? null : sha256Hex(secret)),
          authMethods: client.tokenEndpointAuthMethods,
          grantTypes: client.grantTypes,
          scopes: client.scopes,
          redirectUris: client.redirectUris,
          accessTokenTtlSeconds: client.accessTokenTtlSeconds ?? null,
          idTokenSignedResponseAlg: client.idTokenSignedResponseAlg,
          refreshTokenAbsoluteLifetimeSeconds: client.refreshTokenAbsoluteLifetimeSeconds ?? null,
          refreshTokenIdleLifetimeSeconds: client.refreshTokenIdleLifetimeSeconds ?? null,
          jwks: client.jwks ?? null,
        });
      }
    }
  }
}
