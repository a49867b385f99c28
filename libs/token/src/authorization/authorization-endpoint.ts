import { issuerOf } from '@latchkey/config';
import {
  type AuthorizationInteraction,
  type BeginAuthorization,
  type CheckConsent,
  type CompleteAuthorization,
  ContractError,
  type GetInteraction,
  type ParsedRequestOf,
  type ReplyOf,
  type RevokeConsent,
} from '@latchkey/contracts';
import type { ClientRepository } from '../clients/client.repository.js';
import type { OAuthClient } from '../clients/oauth-client.js';
import type { Consents } from '../consent/consents.js';
import type { TenantDirectory } from '@latchkey/config';
import type { Clock } from '../tokens/access-tokens.js';
import type { RefreshTokens } from '../tokens/refresh-tokens.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { AUTHORIZATION_REQUEST_CHECKS, type AuthorizationRequestContext, REDIRECT_URI_CHECKS, runChecks, type ValidatedAuthorizationRequest } from './authorization-request.js';
import { authorizationResponseLocation } from './authorization-response.js';
import type { Interactions, StoredInteraction } from './interactions.js';

type Subject = NonNullable<ParsedRequestOf<typeof CompleteAuthorization>['subject']>;

/**
 * The token service's half of the authorization endpoint (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2):
 * validates /authorize, keeps the request while the gateway runs login and consent, and ends it with a
 * code or an error at the client's validated redirect URI.
 */
export class AuthorizationEndpoint {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clients: ClientRepository,
    private readonly interactions: Interactions,
    private readonly codes: AuthorizationCodes,
    private readonly consents: Consents,
    private readonly refreshTokens: RefreshTokens,
    private readonly publicUrl: string,
    private readonly clock: Clock,
  ) {}

  /** `latchkey.token.v1.begin-authorization`. */
  async begin(request: ParsedRequestOf<typeof BeginAuthorization>): Promise<ReplyOf<typeof BeginAuthorization>> {
    const tenant = this.tenants.get(request.tenant);
    const { parameters } = request;
    // RFC 6749 §4.1.2.1: without a known client and a registered redirect URI, nothing may redirect.
    if (parameters.client_id === undefined) throw new ContractError('invalid_request', 'client_id is required');
    const client = await this.clients.find(tenant.id, parameters.client_id);
    if (!client) throw new ContractError('invalid_client', 'unknown client');
    const context: AuthorizationRequestContext = { parameters, client, request: { clientId: client.clientId } };
    runChecks(REDIRECT_URI_CHECKS, context);
    const redirectUri = context.request.redirectUri!;
    try {
      runChecks(AUTHORIZATION_REQUEST_CHECKS, context);
    } catch (error) {
      if (!ContractError.is(error)) throw error;
      const location = authorizationResponseLocation(redirectUri, {
        error: error.code,
        error_description: error.message,
        state: context.request.state,
        iss: issuerOf(this.publicUrl, tenant.id),
      });
      return { outcome: 'redirect', location };
    }
    const validated = context.request as ValidatedAuthorizationRequest;
    const { interactionId, expiresAt } = await this.interactions.create(tenant.id, validated);
    return { outcome: 'interaction', ...summary(interactionId, client, validated, expiresAt) };
  }

  /** `latchkey.token.v1.get-interaction`. */
  async get(request: ParsedRequestOf<typeof GetInteraction>): Promise<ReplyOf<typeof GetInteraction>> {
    const tenant = this.tenants.get(request.tenant);
    const interaction = await this.interactions.find(tenant.id, request.interactionId);
    if (!interaction) throw notFound();
    const client = await this.clients.find(tenant.id, interaction.clientId);
    if (!client) throw notFound();
    return summary(request.interactionId, client, interaction.request, interaction.expiresAt);
  }

  /** `latchkey.token.v1.complete-authorization`: single use; approve → code, deny → error. */
  async complete(request: ParsedRequestOf<typeof CompleteAuthorization>): Promise<ReplyOf<typeof CompleteAuthorization>> {
    const tenant = this.tenants.get(request.tenant);
    const iss = issuerOf(this.publicUrl, tenant.id);
    if (request.decision === 'deny') {
      const interaction = await this.interactions.complete(tenant.id, request.interactionId);
      if (!interaction) throw notFound();
      const error = request.error ?? 'access_denied';
      const description = error === 'access_denied' ? 'the resource owner denied the request' : `the request could not be completed without interaction (${error})`;
      return { location: authorizationResponseLocation(interaction.request.redirectUri, { error, error_description: description, state: interaction.request.state, iss }) };
    }
    if (!request.subject) throw new ContractError('invalid_request', 'an approval needs the authenticated subject');
    // Checked before the interaction is used up, so the gateway can still re-authenticate and retry.
    const pending = await this.interactions.find(tenant.id, request.interactionId);
    if (!pending) throw notFound();
    checkAuthenticationFreshness(pending, request.subject, this.clock());
    const interaction = await this.interactions.complete(tenant.id, request.interactionId);
    if (!interaction) throw notFound();
    const { request: authorization } = interaction;
    if (request.remember) await this.consents.remember(tenant.id, interaction.clientId, request.subject.userId, authorization.scopes);
    const code = await this.codes.issue({
      tenant: tenant.id,
      clientId: interaction.clientId,
      redirectUri: authorization.redirectUri,
      redirectUriSent: authorization.redirectUriSent,
      codeChallenge: authorization.codeChallenge,
      ...(authorization.nonce !== undefined ? { nonce: authorization.nonce } : {}),
      scopes: authorization.scopes,
      userId: request.subject.userId,
      authTime: request.subject.authTime,
      amr: request.subject.amr,
      acr: request.subject.acr,
      sessionId: request.subject.sessionId,
    });
    return { location: authorizationResponseLocation(authorization.redirectUri, { code, state: authorization.state, iss }) };
  }

  /** `latchkey.token.v1.check-consent`. */
  async checkConsent(request: ParsedRequestOf<typeof CheckConsent>): Promise<ReplyOf<typeof CheckConsent>> {
    const tenant = this.tenants.get(request.tenant);
    const missing = await this.consents.missing(tenant.id, request.clientId, request.userId, request.scopes);
    return { granted: missing.length === 0, missing };
  }

  /** `latchkey.token.v1.revoke-consent`: the client also loses the refresh tokens the consent allowed. */
  async revokeConsent(request: ParsedRequestOf<typeof RevokeConsent>): Promise<ReplyOf<typeof RevokeConsent>> {
    const tenant = this.tenants.get(request.tenant);
    const revoked = await this.consents.revoke(tenant.id, request.clientId, request.userId);
    const refreshFamiliesRevoked = await this.refreshTokens.revokeFamiliesOf(tenant.id, request.clientId, request.userId, 'consent revoked');
    return { revoked, refreshFamiliesRevoked };
  }
}

/**
 * OIDC Core §3.1.2.1: with `max_age` the user must have authenticated within that many seconds, and
 * with `prompt=login` (and `select_account`, which Latchkey answers the same way) after the request
 * began. The gateway enforces this by re-authenticating; this is the backstop, so a stale session can
 * never yield a code.
 *
 * An authentication at or after the start of the request is fresh by definition, however long the
 * person then took on the consent page: `max_age` is about the session the request found, not about
 * the time between signing in and clicking Allow. Comparing `now` with `auth_time` alone made
 * `max_age=0` (which OIDC treats like `prompt=login`) fail as soon as a second boundary passed, and
 * the gateway answered that by showing the login page again, then consent again, forever.
 */
export function checkAuthenticationFreshness(interaction: Pick<StoredInteraction, 'request' | 'createdAt'>, subject: Subject, now: number): void {
  const nowSeconds = Math.floor(now / 1000);
  if (subject.authTime > nowSeconds + 60) throw new ContractError('invalid_request', 'auth_time is in the future');
  // auth_time has whole seconds: an authentication in the second the request began counts as after it.
  if (subject.authTime >= Math.floor(interaction.createdAt.getTime() / 1000)) return;
  const { maxAge, prompt } = interaction.request;
  if (maxAge !== undefined && nowSeconds - subject.authTime > maxAge) throw new ContractError('invalid_request', 'authentication is older than max_age: re-authenticate');
  if (prompt.includes('login')) throw new ContractError('invalid_request', 'prompt=login requires an authentication after the request');
  if (prompt.includes('select_account')) throw new ContractError('invalid_request', 'prompt=select_account requires signing in to the chosen account after the request');
}

function summary(interactionId: string, client: OAuthClient, request: ValidatedAuthorizationRequest, expiresAt: Date): AuthorizationInteraction {
  return {
    interactionId,
    clientId: client.clientId,
    clientName: client.displayName ?? client.clientId,
    scopes: request.scopes,
    prompt: request.prompt,
    ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}),
    ...(request.acrValues ? { acrValues: request.acrValues } : {}),
    ...(request.loginHint !== undefined ? { loginHint: request.loginHint } : {}),
    ...(request.uiLocales ? { uiLocales: request.uiLocales } : {}),
    redirectUri: request.redirectUri,
    expiresAt: expiresAt.toISOString(),
  };
}

function notFound(): ContractError {
  return new ContractError('not_found', 'unknown, expired or completed interaction');
}
