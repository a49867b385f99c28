import { type TenantConfig, type TenantDirectory } from '@latchkey/config';
import { AuthenticateDevice, type AuthenticatedDevice, type ClientAuthentication, ContractError, DEVICE_CODE_GRANT_TYPE, DeviceId, type RequestOf } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import { assertionAudiences } from './client-assertions.js';
import type { Clock } from '../tokens/access-tokens.js';
import type { OAuthClient } from './oauth-client.js';

/** What a device may do as a client: tokens for itself, and RFC 8628 on behalf of its user. */
export const DEVICE_CLIENT_GRANT_TYPES: readonly string[] = ['client_credentials', DEVICE_CODE_GRANT_TYPE];

/** The proof methods a device may present; `none` never authenticates a device. */
export type DeviceProof = Exclude<ClientAuthentication, { method: 'none' }>;

/** The one request this class makes; a `ContractClient` on the bus satisfies it. */
export type DeviceRegistryClient = Pick<ContractClient, 'send'>;

/** Registry failures that are the server side's, not the client's: passed on as they are (503 / 500). */
const PASSED_THROUGH = new Set(['unavailable', 'internal']);

/** A client id the device registry may know: device ids are UUIDs. */
export function isDeviceId(clientId: string): boolean {
  return DeviceId.safeParse(clientId).success;
}

/**
 * Devices of the registry as OAuth clients (docs/adr/0017): client_id = device id. The registry checks
 * the proof (a private_key_jwt assertion against the device's keys, or its shared secret) and that the
 * device is active; the token service only turns what it vouched for into a client, with the scopes and
 * token lifetime its type has in the tenants file. Nothing is cached: a device suspended a moment ago is
 * refused on its next request. Exactly one registry request per authentication.
 */
export class DeviceClients {
  private readonly logger = new Logger('DeviceClients');

  constructor(
    private readonly tenants: TenantDirectory,
    private readonly registry: DeviceRegistryClient,
    private readonly publicUrl: string,
    private readonly clock: Clock,
  ) {}

  /**
   * The device as a client, or null for every failure of the proof or the device (the caller answers
   * `invalid_client`). A registry that cannot answer is `unavailable`, never `invalid_client`.
   */
  async authenticate(tenant: string, deviceId: string, auth: DeviceProof): Promise<OAuthClient | null> {
    const config = this.tenants.get(tenant);
    const request: RequestOf<typeof AuthenticateDevice> = {
      tenant,
      deviceId,
      proof:
        auth.method === 'private_key_jwt'
          ? { method: 'private_key_jwt', assertion: auth.assertion, audiences: assertionAudiences(this.publicUrl, tenant) }
          : { method: 'client_secret', secret: auth.clientSecret },
    };
    let device: AuthenticatedDevice;
    const authenticatedAt = this.clock();
    try {
      ({ device } = await this.registry.send(AuthenticateDevice, request));
    } catch (error) {
      if (ContractError.is(error) && PASSED_THROUGH.has(error.code)) throw error;
      if (!ContractError.is(error, 'invalid_client')) this.logger.warn(`device authentication refused with an unexpected ${ContractError.is(error) ? error.code : 'error'}`);
      return null;
    }
    return deviceClient(config, device, deviceId, auth.method, authenticatedAt);
  }
}

/**
 * The client a device is, given what the registry vouched for: grant types client_credentials and the
 * device grant, its type's scopes (none for a type the tenants file does not declare), its type's token
 * lifetime (else the tenant's). Null when the answer does not fit the request: another device, or a
 * shared secret for a type that may not use one (the tenants file may have changed since the secret
 * was issued; the token service enforces it too).
 */
export function deviceClient(tenant: TenantConfig, device: AuthenticatedDevice, deviceId: string, method: DeviceProof['method'], authenticatedAt: number): OAuthClient | null {
  if (device.id !== deviceId) return null;
  const type = tenant.deviceTypes.find((candidate) => candidate.type === device.type);
  if (method !== 'private_key_jwt' && !type?.sharedSecret) return null;
  return {
    tenant: tenant.id,
    clientId: device.id,
    displayName: type?.displayName ?? null,
    secretHash: null,
    authMethods: [method],
    grantTypes: [...DEVICE_CLIENT_GRANT_TYPES],
    scopes: [...(type?.scopes ?? [])],
    redirectUris: [],
    accessTokenTtlSeconds: type?.accessTokenTtlSeconds ?? tenant.accessTokenTtlSeconds,
    idTokenSignedResponseAlg: 'ES256',
    refreshTokenAbsoluteLifetimeSeconds: null,
    refreshTokenIdleLifetimeSeconds: null,
    jwks: null,
    device: { id: device.id, type: device.type, ownerId: device.ownerId, authenticatedAt },
  };
}
