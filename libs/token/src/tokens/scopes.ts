import { ContractError } from '@latchkey/contracts';

/** RFC 6749 §3.3: a space-delimited list of scope tokens. */
export function parseScope(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  const tokens = scope.split(' ').filter((token) => token.length > 0);
  if (tokens.some((token) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(token))) {
    throw new ContractError('invalid_scope', 'the scope parameter is malformed');
  }
  return [...new Set(tokens)];
}

/**
 * The scopes a client gets: what it asked for when all of it is allowed, or everything it is allowed
 * when it asked for nothing (RFC 6749 §3.3 lets the server pick a default). Asking for more is refused.
 */
export function grantScopes(requested: string[], allowed: readonly string[]): string[] {
  if (requested.length === 0) return [...allowed];
  const refused = requested.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) {
    throw new ContractError('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  }
  return requested;
}
