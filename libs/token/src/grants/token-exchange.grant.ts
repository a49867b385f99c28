import { issuerOf } from '@latchkey/config';
import {
  ACCESS_TOKEN_TYPE,
  ContractError,
  GrantResource,
  JWT_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  TokenExchangeParameters,
  type TokenResponse,
  type UsableGrant,
  UseGrant,
} from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import type { OAuthClient } from '../clients/oauth-client.js';
import { type DelegatedTokens, delegatedScopeQuestion, delegatedScopes, type GrantParty, signedOrThrow } from '../delegation/delegated-tokens.js';
import type { ScopeDecisions } from '../policy/scope-decisions.js';
import type { AccessTokenClaims, AccessTokens, Clock } from '../tokens/access-tokens.js';
import type { Revocations } from '../tokens/revocations.js';
import { parseScope } from '../tokens/scopes.js';
import type { GrantHandler, GrantRequest } from './grant-handler.js';

/** RFC 8693 §3: the token types a subject or actor token may be: ours are JWT access tokens. */
const INPUT_TOKEN_TYPES: readonly string[] = [ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE];

const invalidRequest = (description: string) => new ContractError('invalid_request', description);
const invalidGrant = (description: string) => new ContractError('invalid_grant', description);

/** A person's token: not a client's own (sub = client_id) and not a device's. */
export function isPersonToken(claims: AccessTokenClaims): boolean {
  return claims.sub !== claims.client_id && claims.device_type === undefined;
}

/**
 * RFC 8693 token exchange for delegation grants (ARCHITECTURE flow 4, docs/adr/0021). Two shapes:
 * - person for person: `subject_token` is the delegatee's own access token (Bianca's, issued to this
 *   client); the result acts for the delegator of Bianca's grant: `sub` = Adam, `act.sub` = Bianca;
 * - app for person: `actor_token` is the client's own client-credentials token and `subject_token` a
 *   token of the person the app acts for; a grant from that person to the app is required:
 *   `sub` = the person, `act.sub` = the client.
 * Either way the delegation service picks the grant and counts the use (`UseGrant`); the token stands on
 * the grant, not on the subject token: it lives on after the subject token is revoked and dies with the grant.
 * Its scopes are the grant's usable ones the client may carry that the tenant's policy allows the
 * delegator through the grant (`token.scope`, docs/adr/0023); none allowed is `invalid_scope`.
 */
export class TokenExchangeGrant implements GrantHandler {
  readonly grantType = TOKEN_EXCHANGE_GRANT_TYPE;

  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly revocations: Revocations,
    private readonly delegation: ContractClient,
    private readonly delegatedTokens: DelegatedTokens,
    private readonly scopeDecisions: ScopeDecisions,
    private readonly publicUrl: string,
    /** The time pinned in the scope decisions (TokenServiceOptions.delegationPolicyClock). */
    private readonly policyClock: Clock = Date.now,
  ) {}

  async handle({ tenant, client, parameters }: GrantRequest): Promise<TokenResponse> {
    const parsed = TokenExchangeParameters.safeParse(parameters);
    if (!parsed.success) throw invalidRequest('subject_token and subject_token_type are required; a parameter is malformed');
    const request = parsed.data;
    // RFC 8693 §2.1: the token types say what the tokens are; only our access tokens are accepted.
    if (!INPUT_TOKEN_TYPES.includes(request.subject_token_type)) throw invalidRequest('subject_token_type must be the access_token or jwt token type');
    if (request.actor_token === undefined && request.actor_token_type !== undefined) throw invalidRequest('actor_token_type without actor_token');
    if (request.actor_token !== undefined && !INPUT_TOKEN_TYPES.includes(request.actor_token_type ?? '')) throw invalidRequest('actor_token_type must be the access_token or jwt token type');
    if (request.requested_token_type !== undefined && request.requested_token_type !== ACCESS_TOKEN_TYPE) throw invalidRequest('only an access token can be requested');
    const resource = this.target(request.resource, request.audience, issuerOf(this.publicUrl, tenant.id));
    const requested = parseScope(request.scope);

    const subject = await this.activeToken(tenant.id, request.subject_token, 'subject_token');
    if (!isPersonToken(subject)) throw invalidRequest('subject_token must be a person\'s token');

    let delegatee: GrantParty;
    let delegatorId: string | undefined;
    if (request.actor_token === undefined) {
      // RFC 6749 §5.2 invalid_grant: the grant (here Bianca's own token) was issued to another client.
      if (subject.client_id !== client.clientId) throw invalidGrant('subject_token was issued to another client');
      delegatee = { type: 'user', id: subject.sub };
    } else {
      const actor = await this.activeToken(tenant.id, request.actor_token, 'actor_token');
      if (actor.client_id !== client.clientId) throw invalidGrant('actor_token was issued to another client');
      if (actor.sub !== client.clientId) throw invalidRequest('actor_token must be the client\'s own token (client credentials)');
      delegatee = { type: 'client', id: client.clientId };
      delegatorId = subject.sub;
    }

    const usable = await this.useGrant(tenant.id, client, delegatee, resource, delegatorId, requested);
    // The delegation service answers for the delegator asked for; a grant of anyone else is no answer.
    if (delegatorId !== undefined && usable.grant.delegator.id !== delegatorId) throw invalidGrant('no usable delegation grant from the subject');
    const candidates = delegatedScopes(usable.scopes, client.scopes);
    if (candidates.length === 0) throw new ContractError('invalid_scope', 'none of the scopes the grant allows is registered for this client');
    const question = delegatedScopeQuestion(usable, delegatee, candidates, this.policyClock());
    const allowed = await this.scopeDecisions.allowed(tenant.id, question.subject, candidates, question.context);
    if (allowed.length === 0) throw new ContractError('invalid_scope', 'the policy allows none of the grant\'s scopes');
    const signed = signedOrThrow(await this.delegatedTokens.sign(tenant, client.clientId, allowed, usable, delegatee));
    // RFC 8693 §2.2.1; no refresh token: a delegated token is short-lived and re-exchanged (docs/adr/0021).
    return { access_token: signed.token, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: signed.lifetimeSeconds, scope: signed.scopes.join(' ') };
  }

  /**
   * RFC 8707 `resource` / RFC 8693 `audience`: the shared resource (`device:<serial>`, `*`, or the
   * issuer for `*`). The gateway refuses repeated parameters, so each is one value; when both are
   * given they must name the same thing.
   */
  private target(resource: string | undefined, audience: string | undefined, issuer: string): string | undefined {
    const normalise = (value: string) => (value === issuer ? '*' : value);
    const named = [resource, audience].filter((value): value is string => value !== undefined).map(normalise);
    if (named.length === 0) return undefined;
    if (named.some((value) => value !== named[0])) throw new ContractError('invalid_target', 'resource and audience name different targets');
    if (!GrantResource.safeParse(named[0]).success) throw new ContractError('invalid_target', 'the target is a shared resource: "device:<serial>" or "*"');
    return named[0];
  }

  /** Signature, tenant, expiry and revocation: what VerifyAccessToken checks. A delegated token is no subject or actor. */
  private async activeToken(tenant: string, token: string, name: string): Promise<AccessTokenClaims> {
    const claims = await this.accessTokens.verify(tenant, token);
    if (!claims || (await this.revocations.isRevoked(tenant, claims))) throw invalidGrant(`${name} is invalid, expired or revoked`);
    // Re-delegation goes through grants (a re-delegable grant and a child grant), never through tokens:
    // exchanging a delegated token would let its holder act beyond the chain the grants record.
    if (claims.gid !== undefined || claims.act !== undefined) throw invalidRequest(`${name} is a delegated token; delegated tokens cannot be exchanged`);
    return claims;
  }

  /** `UseGrant`, with the delegation service's refusals as RFC 8693 §2.2.2 / RFC 6749 §5.2 errors. */
  private async useGrant(tenant: string, client: OAuthClient, delegatee: GrantParty, resource: string | undefined, delegatorId: string | undefined, requested: string[]): Promise<UsableGrant> {
    // Only scopes the client may carry are asked for (none asked: all the grant allows, narrowed after).
    const asked = requested.filter((scope) => client.scopes.includes(scope));
    if (requested.length > 0 && asked.length === 0) throw new ContractError('invalid_scope', 'none of the requested scopes is registered for this client');
    try {
      return await this.delegation.send(UseGrant, {
        tenant,
        delegatee,
        ...(resource !== undefined ? { resource } : {}),
        ...(delegatorId !== undefined ? { delegatorId } : {}),
        scopes: asked,
      });
    } catch (error) {
      throw delegationRefusal(error, resource !== undefined);
    }
  }
}

/**
 * How the delegation service's answer reaches the client: no usable grant is `invalid_target` when a
 * resource was named (RFC 8693 §2.2.2), else `invalid_grant`; constraints that refuse now are
 * `invalid_grant` with the reason; `invalid_scope` as it is; an outage stays `unavailable`.
 */
export function delegationRefusal(error: unknown, resourceNamed: boolean): unknown {
  if (!ContractError.is(error)) return error;
  switch (error.code) {
    case 'not_found':
      return resourceNamed ? new ContractError('invalid_target', 'no usable delegation grant for this resource') : invalidGrant('no usable delegation grant');
    case 'forbidden':
      return invalidGrant(`the delegation grant refuses now: ${error.message}`.slice(0, 300));
    case 'validation_failed':
      return invalidRequest(error.message);
    default:
      return error;
  }
}
