import { describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { DEVICE_CODE_GRANT_TYPE } from '@latchkey/contracts';
import { deviceClient, isDeviceId } from './device-clients.js';

const [tenant] = parseTenants(`
tenants:
  - id: demo
    accessTokenTtlSeconds: 600
    deviceTypes:
      - type: bike-lock
        displayName: Bike lock
        scopes: [lock:unlock, lock:status]
        accessTokenTtlSeconds: 120
      - type: meter
        scopes: [meter:report]
        sharedSecret: true
`).tenants;

const DEVICE_ID = '0b7e4a52-6f1d-4c39-9d0e-2f1a7c3b5e91';
const AT = 1_800_000_000_123;
const authenticated = (type: string, ownerId: string | null = 'user-adam', id = DEVICE_ID) => ({ id, type, ownerId, credentialId: '5d1c0f3e-8b7a-4e62-a1d9-3c4b5a6f7e80' });

describe('a device as an OAuth client (docs/adr/0017)', () => {
  it('is client_id = device id, with its type\'s scopes, lifetime and name, both device grant types, the device\'s facts and when it authenticated', () => {
    expect(deviceClient(tenant!, authenticated('bike-lock'), DEVICE_ID, 'private_key_jwt', AT)).toEqual({
      tenant: 'demo',
      clientId: DEVICE_ID,
      displayName: 'Bike lock',
      secretHash: null,
      authMethods: ['private_key_jwt'],
      grantTypes: ['client_credentials', DEVICE_CODE_GRANT_TYPE],
      scopes: ['lock:unlock', 'lock:status'],
      redirectUris: [],
      accessTokenTtlSeconds: 120,
      idTokenSignedResponseAlg: 'ES256',
      refreshTokenAbsoluteLifetimeSeconds: null,
      refreshTokenIdleLifetimeSeconds: null,
      jwks: null,
      device: { id: DEVICE_ID, type: 'bike-lock', ownerId: 'user-adam', authenticatedAt: AT },
    });
  });

  it('gets no scopes and the tenant\'s token lifetime when its type is not declared', () => {
    const client = deviceClient(tenant!, authenticated('toaster', null), DEVICE_ID, 'private_key_jwt', AT);
    expect(client).toMatchObject({ scopes: [], accessTokenTtlSeconds: 600, displayName: null, device: { type: 'toaster', ownerId: null } });
  });

  it('may use a shared secret only when its type allows it', () => {
    expect(deviceClient(tenant!, authenticated('meter'), DEVICE_ID, 'client_secret_basic', AT)).toMatchObject({ authMethods: ['client_secret_basic'], scopes: ['meter:report'] });
    expect(deviceClient(tenant!, authenticated('meter'), DEVICE_ID, 'client_secret_post', AT)).toMatchObject({ authMethods: ['client_secret_post'] });
    expect(deviceClient(tenant!, authenticated('bike-lock'), DEVICE_ID, 'client_secret_basic', AT)).toBeNull();
    expect(deviceClient(tenant!, authenticated('toaster'), DEVICE_ID, 'client_secret_post', AT)).toBeNull();
  });

  it('case=should fail because the registry vouched for another device', () => {
    expect(deviceClient(tenant!, authenticated('bike-lock', null, '7a0c9e1b-2d3f-4a5b-8c6d-9e0f1a2b3c4d'), DEVICE_ID, 'private_key_jwt', AT)).toBeNull();
  });

  it('is asked about only for client ids that are UUIDs', () => {
    expect(isDeviceId(DEVICE_ID)).toBe(true);
    expect(isDeviceId(DEVICE_ID.toUpperCase())).toBe(true);
    for (const other of ['sensor', 'tv', '', `${DEVICE_ID} `, DEVICE_ID.replaceAll('-', '')]) expect(isDeviceId(other)).toBe(false);
  });
});
