import { ACR_PASSWORD, ACR_PASSWORD_AND_OTP, DEVICE_CODE_GRANT_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '@latchkey/contracts';

const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
/** RFC 7523 §2.2 client assertions, checked by the token service for every client-authenticated endpoint (ADR 0014). */
const CLIENT_AUTH_METHODS = [...SECRET_AUTH_METHODS, 'private_key_jwt'];
/** The assertion algorithms a registered key can allow: EC P-256, Ed25519, RSA (ADR 0014). */
const ASSERTION_SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/**
 * OIDC Core §2 / §5.1: what ID tokens and userinfo can carry; `delegations` is userinfo's delegated
 * access tokens (scope `delegations`, issue #5; its shape is in the OpenAPI document).
 */
const CLAIMS_SUPPORTED = ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'sid', 'preferred_username', 'name', 'email', 'email_verified', 'delegations'];

/**
 * RFC 8414 §2 and OpenID Connect Discovery 1.0 §3 metadata, listing only what this deployment actually
 * supports. `scopes` are the scopes the tenant's clients may ask for.
 */
export function authorizationServerMetadata(issuer: string, scopes: readonly string[] = []) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    userinfo_endpoint: `${issuer}/oauth2/userinfo`,
    end_session_endpoint: `${issuer}/oauth2/logout`,
    jwks_uri: `${issuer}/jwks`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    device_authorization_endpoint: `${issuer}/oauth2/device_authorization`,
    scopes_supported: [...new Set(['openid', ...scopes])],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT_TYPE, TOKEN_EXCHANGE_GRANT_TYPE],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGS,
    // RFC 7662 §2.1: only a client that proves who it is may introspect, so never `none`.
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGS,
    // RFC 7009 §2.1: a public client may revoke what was issued to it (and nothing else).
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGS,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    access_token_signing_alg_values_supported: ['ES256'],
    claims_supported: CLAIMS_SUPPORTED,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    acr_values_supported: [ACR_PASSWORD, ACR_PASSWORD_AND_OTP],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}
