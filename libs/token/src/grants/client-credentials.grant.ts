import { issuerOf } from '@latchkey/config';
import { ClientCredentialsParameters, ContractError, type TokenResponse } from '@latchkey/contracts';
import { clientSubject, type ScopeDecisions } from '../policy/scope-decisions.js';
import type { AccessTokens } from '../tokens/access-tokens.js';
import { grantScopes, parseScope } from '../tokens/scopes.js';
import type { GrantHandler, GrantRequest } from './grant-handler.js';

/**
 * RFC 6749 §4.4: a client (a registered one, or a device of the registry) obtains a token for itself.
 * Its scopes are those registered for it (all of them when it asks for none) that the tenant's policy
 * allows it (`token.scope`, docs/adr/0023): a scope the policy denies is left out; asking only for
 * denied scopes is `invalid_scope`; a client whose default scopes are all denied gets a token without
 * scope, as a client registered with no scope does.
 */
export class ClientCredentialsGrant implements GrantHandler {
  readonly grantType = 'client_credentials';

  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly scopeDecisions: ScopeDecisions,
    private readonly publicUrl: string,
  ) {}

  async handle({ tenant, client, parameters }: GrantRequest): Promise<TokenResponse> {
    const parsed = ClientCredentialsParameters.safeParse(parameters);
    if (!parsed.success) throw new ContractError('invalid_request', 'malformed scope or resource parameter');
    // RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
    if (parsed.data.resource?.includes('#')) throw new ContractError('invalid_target', 'resource must not contain a fragment');
    const requested = parseScope(parsed.data.scope);
    const candidates = grantScopes(requested, client.scopes);
    const scopes = candidates.length > 0 ? await this.scopeDecisions.allowed(tenant.id, clientSubject(tenant, client), candidates) : [];
    if (requested.length > 0 && scopes.length === 0) throw new ContractError('invalid_scope', `the policy does not allow this client the requested scope: ${requested.join(' ')}`.slice(0, 300));
    const lifetimeSeconds = client.accessTokenTtlSeconds ?? tenant.accessTokenTtlSeconds;
    const { token } = await this.accessTokens.issue({
      tenant: tenant.id,
      subject: client.clientId,
      clientId: client.clientId,
      audience: parsed.data.resource ?? issuerOf(this.publicUrl, tenant.id),
      scopes,
      lifetimeSeconds,
      // A device's own token says what it is and whose it is, and is dated by its authentication (docs/adr/0017).
      ...(client.device ? { device: { type: client.device.type, ownerId: client.device.ownerId }, issuedAt: client.device.authenticatedAt } : {}),
    });
    return { access_token: token, token_type: 'Bearer', expires_in: lifetimeSeconds, ...(scopes.length ? { scope: scopes.join(' ') } : {}) };
  }
}
