import { type ClientAuthentication, ContractError } from '@latchkey/contracts';
import { secretMatchesHash, sha256Hex } from '@latchkey/crypto';
import { assertedClientId, type ClientAssertions } from './client-assertions.js';
import type { ClientRepository } from './client.repository.js';
import { type DeviceClients, type DeviceProof, isDeviceId } from './device-clients.js';
import type { OAuthClient } from './oauth-client.js';

// A digest no secret matches: unknown clients cost the same hash-and-compare as known ones.
const UNKNOWN_CLIENT_DIGEST = sha256Hex('latchkey:unknown-client');

/**
 * RFC 6749 §2.3, RFC 7523 §2.2: checks a client's proof of identity — at the token, device
 * authorization, introspection and revocation endpoints alike. Every failure is the same
 * `invalid_client`, so a caller learns nothing about which client ids exist.
 *
 * Two kinds of client: registered ones (checked here), and devices of the device registry, whose
 * client_id is their device id (checked by the registry through `DeviceClients`, docs/adr/0017). A
 * registered client always wins: the registry is asked only about a UUID that names no registered client.
 */
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientRepository,
    private readonly assertions?: ClientAssertions,
    private readonly devices?: DeviceClients,
  ) {}

  async authenticate(tenant: string, auth: ClientAuthentication): Promise<OAuthClient> {
    if (this.devices && auth.method !== 'none') {
      const deviceId = await this.unregisteredDeviceId(tenant, auth);
      if (deviceId !== null) {
        const client = await this.devices.authenticate(tenant, deviceId, auth);
        if (!client) throw invalidClient();
        return client;
      }
    }
    return this.authenticateRegistered(tenant, auth);
  }

  /**
   * RFC 7662 §2.1: the caller of the introspection endpoint must be authorized to ask, and a public
   * client (`none`) proves nothing about who is asking — anybody can send its client_id. Refused as a
   * failed authentication, before any lookup.
   */
  async authenticateConfidential(tenant: string, auth: ClientAuthentication): Promise<OAuthClient> {
    if (auth.method === 'none') throw invalidClient();
    return this.authenticate(tenant, auth);
  }

  /** The client id when it may be a device's (a UUID) and names no registered client, else null. */
  private async unregisteredDeviceId(tenant: string, auth: DeviceProof): Promise<string | null> {
    const clientId = auth.method === 'private_key_jwt' ? assertedClientId(auth.assertion, auth.clientId) : auth.clientId;
    if (clientId === undefined || !isDeviceId(clientId)) return null;
    return (await this.clients.isRegistered(tenant, clientId)) ? null : clientId;
  }

  private async authenticateRegistered(tenant: string, auth: ClientAuthentication): Promise<OAuthClient> {
    if (auth.method === 'private_key_jwt') {
      const client = this.assertions ? await this.assertions.authenticate(tenant, auth.assertion, auth.clientId) : null;
      if (!client) throw invalidClient();
      return client;
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
