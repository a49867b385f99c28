import { type ClientAuthentication, ContractError } from '@latchkey/contracts';
import { secretMatchesHash, sha256Hex } from '@latchkey/crypto';
import type { ClientRepository } from './client.repository.js';
import type { OAuthClient } from './oauth-client.js';

// A digest no secret matches: unknown clients cost the same hash-and-compare as known ones.
const UNKNOWN_CLIENT_DIGEST = sha256Hex('latchkey:unknown-client');

/**
 * RFC 6749 §2.3: checks a client's proof of identity. Every failure is the same `invalid_client`,
 * so a caller learns nothing about which client ids exist.
 */
export class ClientAuthenticator {
  constructor(private readonly clients: ClientRepository) {}

  async authenticate(tenant: string, auth: ClientAuthentication): Promise<OAuthClient> {
    if (auth.method === 'private_key_jwt') {
      // RFC 7523 client assertions arrive with the OAuth/OIDC issue; until then no client may use them.
      throw invalidClient();
    }
    const client = await this.clients.find(tenant, auth.clientId);
    if (auth.method === 'none') {
      if (!client || !client.authMethods.includes('none')) throw invalidClient();
      return client;
    }
    const matches = secretMatchesHash(auth.clientSecret, client?.secretHash ?? UNKNOWN_CLIENT_DIGEST);
    if (!client || !matches || !client.secretHash || !client.authMethods.includes(auth.method)) throw invalidClient();
    return client;
  }
}

function invalidClient(): ContractError {
  return new ContractError('invalid_client', 'client authentication failed');
}
