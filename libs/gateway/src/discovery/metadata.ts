const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];

/**
 * RFC 8414 §2 metadata, listing only what this deployment actually supports. The OpenID Connect
 * document is the same until the authorization endpoint and ID tokens exist.
 */
export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/jwks`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: SECRET_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: SECRET_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: SECRET_AUTH_METHODS,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    access_token_signing_alg_values_supported: ['ES256'],
  };
}
