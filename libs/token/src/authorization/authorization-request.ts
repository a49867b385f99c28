import { ContractError, type ErrorCode, PROMPT_VALUES } from '@latchkey/contracts';
import type { OAuthClient } from '../clients/oauth-client.js';
import { parseScope } from '../tokens/scopes.js';
import { CODE_CHALLENGE } from './pkce.js';

type PromptValue = (typeof PROMPT_VALUES)[number];

/** An authorization request that passed every check: what the interaction and the code carry. */
export interface ValidatedAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** RFC 6749 §4.1.3: the token request must repeat redirect_uri when the authorization request had it. */
  redirectUriSent: boolean;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt: PromptValue[];
  maxAge?: number;
  acrValues?: string[];
  loginHint?: string;
  uiLocales?: string[];
}

export interface AuthorizationRequestContext {
  parameters: Record<string, string>;
  client: OAuthClient;
  /** Filled in by the checks, step by step. */
  request: Partial<ValidatedAuthorizationRequest>;
}

export type AuthorizationCheck = (context: AuthorizationRequestContext) => void;

/** A failure the client may hear about at its redirect URI (RFC 6749 §4.1.2.1). */
function refuse(code: ErrorCode, description: string): never {
  throw new ContractError(code, description);
}

const MAX_STATE = 2048;
const MAX_NONCE = 512;

// --- Checks whose failure must NOT redirect: no trusted redirect URI exists yet. ---------------------

/**
 * RFC 6749 §3.1.2.3 + RFC 9700 §4.1.3: the redirect URI must equal a registered one by exact string
 * comparison (no prefix, path, port or case leeway; a fragment can never match since none is
 * registered). It may be omitted only when exactly one is registered. Failing here is an error page.
 */
export function checkRedirectUri({ parameters, client, request }: AuthorizationRequestContext): void {
  const sent = parameters.redirect_uri;
  if (sent === undefined) {
    if (client.redirectUris.length !== 1) refuse('invalid_request', 'redirect_uri is required for this client');
    request.redirectUri = client.redirectUris[0]!;
    request.redirectUriSent = false;
    return;
  }
  if (!client.redirectUris.includes(sent)) refuse('invalid_request', 'redirect_uri is not registered for this client');
  request.redirectUri = sent;
  request.redirectUriSent = true;
}

/** Checks run before a redirect URI is trusted: a failure is answered to the user agent, never redirected. */
export const REDIRECT_URI_CHECKS: ReadonlyArray<readonly [string, AuthorizationCheck]> = [['checkRedirectUri', checkRedirectUri]];

// --- Checks whose failure goes back to the client's redirect URI. ----------------------------------

/**
 * OIDC Core §6.1 / §6.2 + §3.1.2.6: request objects are not supported (discovery says
 * `request_parameter_supported` and `request_uri_parameter_supported` are false), so a request that
 * carries one is refused with the error the specification names. Serving it from its plain parameters
 * alone would be wrong: the client meant the object's values to win over them.
 */
export function checkRequestObject({ parameters }: AuthorizationRequestContext): void {
  if (parameters.request !== undefined) refuse('request_not_supported', 'request objects (the request parameter) are not supported');
  if (parameters.request_uri !== undefined) refuse('request_uri_not_supported', 'the request_uri parameter is not supported');
}

/** RFC 6749 §4.1.1: response_type must be `code`, the only flow offered (RFC 9700 §2.1.2 drops implicit). */
export function checkResponseType({ parameters }: AuthorizationRequestContext): void {
  if (parameters.response_type === undefined) refuse('invalid_request', 'response_type is required');
  if (parameters.response_type !== 'code') refuse('unsupported_response_type', 'only response_type=code is supported');
}

/** RFC 6749 §4.1.2.1 `unauthorized_client`: the client must be registered for the authorization-code grant. */
export function checkClientMayUseCode({ client }: AuthorizationRequestContext): void {
  if (!client.grantTypes.includes('authorization_code')) refuse('unauthorized_client', 'client is not allowed to use authorization_code');
}

/** OAuth 2.0 Multiple Response Types §2.1: only the query response mode is offered. */
export function checkResponseMode({ parameters }: AuthorizationRequestContext): void {
  if (parameters.response_mode !== undefined && parameters.response_mode !== 'query') refuse('invalid_request', 'only response_mode=query is supported');
}

/**
 * RFC 7636 §4.3 + RFC 9700 §2.1.1: PKCE is required of every client, with S256 only; `plain` or a
 * missing method is refused (§4.4.1), and the challenge is 43–128 base64url characters.
 */
export function checkPkce({ parameters, request }: AuthorizationRequestContext): void {
  const challenge = parameters.code_challenge;
  if (challenge === undefined) refuse('invalid_request', 'code_challenge is required (PKCE, S256)');
  if (parameters.code_challenge_method !== 'S256') refuse('invalid_request', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(challenge)) refuse('invalid_request', 'code_challenge must be 43-128 base64url characters');
  request.codeChallenge = challenge;
}

/** RFC 6749 §3.3: the requested scopes, all of them allowed for the client; none is refused (no silent default). */
export function checkScope({ parameters, client, request }: AuthorizationRequestContext): void {
  const scopes = parseScope(parameters.scope);
  if (scopes.length === 0) refuse('invalid_scope', 'scope is required');
  const refused = scopes.filter((scope) => !client.scopes.includes(scope));
  if (refused.length > 0) refuse('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  request.scopes = scopes;
}

/** OIDC Core §3.1.2.1: `nonce` is round-tripped into the ID token when `openid` is requested. */
export function checkNonce({ parameters, request }: AuthorizationRequestContext): void {
  const nonce = parameters.nonce;
  if (nonce === undefined) return;
  if (nonce.length === 0 || nonce.length > MAX_NONCE) refuse('invalid_request', `nonce must be 1-${MAX_NONCE} characters`);
  if (request.scopes?.includes('openid')) request.nonce = nonce;
}

/**
 * OIDC Core §3.1.2.1: `prompt` is a set of none/login/consent/select_account, and `none` stands alone.
 * Latchkey has one session per browser and tenant, so `select_account` is answered like `login`: the
 * sign-in form, where the person chooses the account by signing in to it.
 */
export function checkPrompt({ parameters, request }: AuthorizationRequestContext): void {
  const values = (parameters.prompt ?? '').split(' ').filter((value) => value.length > 0);
  const unknown = values.filter((value) => !(PROMPT_VALUES as readonly string[]).includes(value));
  if (unknown.length > 0) refuse('invalid_request', `unsupported prompt value: ${unknown.join(' ')}`);
  if (values.includes('none') && values.length > 1) refuse('invalid_request', 'prompt=none cannot be combined with other values');
  request.prompt = [...new Set(values)] as PromptValue[];
}

/** OIDC Core §3.1.2.1: `max_age` is a non-negative number of seconds. */
export function checkMaxAge({ parameters, request }: AuthorizationRequestContext): void {
  if (parameters.max_age === undefined) return;
  if (!/^\d{1,10}$/.test(parameters.max_age)) refuse('invalid_request', 'max_age must be a non-negative integer');
  request.maxAge = Number(parameters.max_age);
}

/** OIDC Core §3.1.2.1: `acr_values`, `login_hint` and `ui_locales` are passed on to the login page. */
export function checkHints({ parameters, request }: AuthorizationRequestContext): void {
  const list = (value: string | undefined) => value?.split(' ').filter((entry) => entry.length > 0);
  const acrValues = list(parameters.acr_values);
  if (acrValues?.length) request.acrValues = acrValues;
  const uiLocales = list(parameters.ui_locales);
  if (uiLocales?.length) request.uiLocales = uiLocales;
  if (parameters.login_hint !== undefined) {
    if (parameters.login_hint.length > 200) refuse('invalid_request', 'login_hint is too long');
    request.loginHint = parameters.login_hint;
  }
}

/** RFC 6749 §4.1.1 + RFC 9700 §4.7.1: `state` is returned verbatim; it is bounded, not interpreted. */
export function checkState({ parameters, request }: AuthorizationRequestContext): void {
  if (parameters.state === undefined) return;
  if (parameters.state.length > MAX_STATE) refuse('invalid_request', `state must be at most ${MAX_STATE} characters`);
  request.state = parameters.state;
}

/**
 * The checks of an authorization request, in order, once the redirect URI is trusted. Any failure is
 * redirected to the client (RFC 6749 §4.1.2.1); `state` is captured first so the error can carry it.
 * A request object is refused next, before any parameter it might have carried is found missing.
 * Other unknown parameters are ignored (RFC 6749 §3.1).
 */
export const AUTHORIZATION_REQUEST_CHECKS: ReadonlyArray<readonly [string, AuthorizationCheck]> = [
  ['checkState', checkState],
  ['checkRequestObject', checkRequestObject],
  ['checkResponseType', checkResponseType],
  ['checkClientMayUseCode', checkClientMayUseCode],
  ['checkResponseMode', checkResponseMode],
  ['checkPkce', checkPkce],
  ['checkScope', checkScope],
  ['checkNonce', checkNonce],
  ['checkPrompt', checkPrompt],
  ['checkMaxAge', checkMaxAge],
  ['checkHints', checkHints],
];

export function runChecks(checks: ReadonlyArray<readonly [string, AuthorizationCheck]>, context: AuthorizationRequestContext): void {
  for (const [, check] of checks) check(context);
}
