import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  AuthenticateDevice,
  BindDeviceOwner,
  type ClientAuthentication,
  ContractError,
  DecideDeviceCode,
  DEVICE_CODE_GRANT_TYPE,
  DeviceAuthorization,
  DeviceCredentialRevoked,
  DeviceDecommissioned,
  type DeviceEventPayload,
  type DeviceStatus,
  DeviceSuspended,
  type EventContract,
  GetJwks,
  IntrospectToken,
  IssueToken,
  LookupUserCode,
  type ParsedRequestOf,
  type ReplyOf,
  VerifyAccessToken,
} from '@latchkey/contracts';
import { checkAssertionClaims, KeyEncryption, readUnverifiedAssertion, verifyAssertionSignature } from '@latchkey/crypto';
import { type ContractClient, createEventStream, type EventStream, Handles } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { startStandInPolicy, StandInPolicyState } from './test/stand-in-policy.js';
import { TokenModule } from './token.module.js';
import { DeviceRevocationFeed } from './tokens/device-revocation-feed.js';
import { startStandIn } from './test/stand-in-service.js';

// Devices as OAuth clients (docs/adr/0017) against a real PostgreSQL and NATS (JetStream). The device
// registry is another service: here a small stand-in on the cluster's NATS answers its two requests per
// contract (AuthenticateDevice, BindDeviceOwner), checking assertions with the same @latchkey/crypto
// functions. Device events travel on JetStream through the platform's EventStream.

const publicUrl = 'https://auth.example.test';
const issuer = `${publicUrl}/t/demo`;
const tokenEndpoint = `${issuer}/oauth2/token`;
const REGISTERED_UUID = '3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a090';

const tenants = parseTenants(
  JSON.stringify({
    tenants: [
      {
        id: 'demo',
        accessTokenTtlSeconds: 600,
        clients: [
          { clientId: 'rs', secret: 'rs-secret', grantTypes: ['client_credentials'] },
          // A registered client whose id happens to be a UUID: it wins over any device with that id.
          { clientId: REGISTERED_UUID, secret: 'registered-secret', grantTypes: ['client_credentials'], scopes: ['svc:read'] },
        ],
        deviceTypes: [
          { type: 'bike-lock', displayName: 'Bike lock', scopes: ['openid', 'lock:unlock', 'lock:status'], accessTokenTtlSeconds: 120 },
          { type: 'meter', scopes: ['meter:report'], sharedSecret: true },
        ],
      },
    ],
  }),
);

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

interface StandInCredential {
  id: string;
  status: 'active' | 'revoked';
  /** A public JWK (kid = the credential id) or a shared secret. */
  jwk?: JWK;
  secret?: string;
}

interface StandInDevice {
  id: string;
  type: string;
  ownerId: string | null;
  status: DeviceStatus;
  credentials: StandInCredential[];
  /** How long the registry takes to answer for this device (a slow answer, racing a change). */
  replyDelayMs?: number;
}

/** What the stand-in registry knows and what it was asked. */
class RegistryState {
  readonly devices = new Map<string, StandInDevice>();
  readonly authentications: (ParsedRequestOf<typeof AuthenticateDevice> & { receivedAt: number })[] = [];
  readonly bindings: ParsedRequestOf<typeof BindDeviceOwner>[] = [];
  private readonly spentJtis = new Set<string>();

  constructor(readonly now: () => number) {}

  spend(jti: string): boolean {
    if (this.spentJtis.has(jti)) return false;
    this.spentJtis.add(jti);
    return true;
  }
}

const REGISTRY_STATE = Symbol('REGISTRY_STATE');
const refused = () => new ContractError('invalid_client', 'client authentication failed');

/** The device registry's side of the two contracts, as the registry documents them. */
@Controller()
class StandInDeviceRegistry {
  constructor(@Inject(REGISTRY_STATE) private readonly state: RegistryState) {}

  @Handles(AuthenticateDevice)
  async authenticate(request: ParsedRequestOf<typeof AuthenticateDevice>): Promise<ReplyOf<typeof AuthenticateDevice>> {
    this.state.authentications.push({ ...request, receivedAt: this.state.now() });
    const device = this.state.devices.get(request.deviceId);
    if (!device || request.tenant !== 'demo' || device.status !== 'active') throw refused();
    const credential = await this.provenBy(device, request.proof);
    if (!credential) throw refused();
    if (device.replyDelayMs) await sleep(device.replyDelayMs);
    return { device: { id: device.id, type: device.type, ownerId: device.ownerId, credentialId: credential.id } };
  }

  @Handles(BindDeviceOwner)
  bind(request: ParsedRequestOf<typeof BindDeviceOwner>): ReplyOf<typeof BindDeviceOwner> {
    this.state.bindings.push(request);
    const device = this.state.devices.get(request.deviceId);
    if (!device || request.tenant !== 'demo') throw new ContractError('not_found', 'no such device');
    if (device.status === 'decommissioned') throw new ContractError('conflict', 'the device is decommissioned');
    const bound = device.ownerId === null;
    if (bound) device.ownerId = request.userId;
    const now = new Date(this.state.now()).toISOString();
    return {
      bound,
      device: {
        id: device.id,
        tenant: 'demo',
        serial: `serial-${device.id.slice(0, 8)}`,
        type: device.type,
        model: null,
        firmwareVersion: null,
        location: null,
        attributes: {},
        ownerId: device.ownerId,
        status: device.status,
        createdAt: now,
        updatedAt: now,
        lastSeenAt: null,
      },
    };
  }

  private async provenBy(device: StandInDevice, proof: ParsedRequestOf<typeof AuthenticateDevice>['proof']): Promise<StandInCredential | null> {
    const active = device.credentials.filter((credential) => credential.status === 'active');
    if (proof.method === 'client_secret') return active.find((credential) => credential.secret !== undefined && credential.secret === proof.secret) ?? null;
    const read = readUnverifiedAssertion(proof.assertion);
    const keys = active.flatMap((credential) => (credential.jwk ? [{ ...credential.jwk, kty: credential.jwk.kty!, kid: credential.id }] : []));
    const verified = read && (await verifyAssertionSignature(proof.assertion, read.header, keys));
    if (!verified) return null;
    const checked = checkAssertionClaims(verified.claims, { clientId: device.id, audiences: proof.audiences, now: Math.floor(this.state.now() / 1000) });
    if (!checked.ok || !this.state.spend(checked.claims.jti)) return null;
    return active.find((credential) => credential.id === verified.key.kid) ?? null;
  }
}

function startStandInRegistry(cluster: ServiceCluster, state: RegistryState): Promise<INestMicroservice> {
  return startStandIn(cluster.transport, 'device-registry', StandInDeviceRegistry, [{ provide: REGISTRY_STATE, useValue: state }]);
}

describe('devices as OAuth clients: device tokens, revocation by device events, RFC 8628 owner binding', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  let registry: INestMicroservice;
  let events: EventStream;
  let offset = 0;
  const clock = () => Date.now() + offset;
  const advance = (seconds: number) => {
    offset += seconds * 1000;
  };
  const state = new RegistryState(clock);
  const keys = new Map<string, KeyPair>();
  // The policy service's side of scope decisions (docs/adr/0023): a stand-in that allows every scope.
  const policyState = new StandInPolicyState();
  let policy: INestMicroservice;

  /** A device of the stand-in registry with `jwks` key credentials (and optionally a shared secret). */
  async function device(type: string, options: { ownerId?: string | null; jwks?: number; secret?: string; id?: string } = {}): Promise<StandInDevice> {
    const credentials: StandInCredential[] = [];
    for (let i = 0; i < (options.jwks ?? 1); i++) {
      const id = randomUUID();
      const pair = await generateKeyPair('ES256');
      keys.set(id, pair);
      credentials.push({ id, status: 'active', jwk: await exportJWK(pair.publicKey) });
    }
    if (options.secret) credentials.push({ id: randomUUID(), status: 'active', secret: options.secret });
    const created: StandInDevice = { id: options.id ?? randomUUID(), type, ownerId: options.ownerId === undefined ? 'user-adam' : options.ownerId, status: 'active', credentials };
    state.devices.set(created.id, created);
    return created;
  }

  /** RFC 7523 §2.2 assertion of a device, signed with one of its key credentials (the first by default). */
  async function assertion(of: StandInDevice, credential = of.credentials[0]!): Promise<string> {
    const iat = Math.floor(clock() / 1000);
    return new SignJWT({ iss: of.id, sub: of.id, aud: tokenEndpoint, iat, exp: iat + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: credential.id })
      .sign(keys.get(credential.id)!.privateKey);
  }
  const privateKeyJwt = async (of: StandInDevice, credential?: StandInCredential, withClientId = true): Promise<ClientAuthentication> => ({
    method: 'private_key_jwt',
    assertion: await assertion(of, credential),
    ...(withClientId ? { clientId: of.id } : {}),
  });
  const clientCredentials = (client: ClientAuthentication, scope?: string) =>
    bus.send(IssueToken, { tenant: 'demo', grantType: 'client_credentials', client, parameters: scope === undefined ? {} : { scope } });
  const rs: ClientAuthentication = { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret' };
  const introspect = (token: string) => bus.send(IntrospectToken, { tenant: 'demo', client: rs, token });
  const verify = (token: string) => bus.send(VerifyAccessToken, { tenant: 'demo', token });
  const claimsOf = async (token: string) => (await jwtVerify(token, createLocalJWKSet(await bus.send(GetJwks, { tenant: 'demo' })), { issuer, typ: 'at+jwt', currentDate: new Date(clock()) })).payload;

  /** Milliseconds until both introspection and VerifyAccessToken call the token inactive, or null after `withinMs`. */
  async function inactiveAfter(token: string, withinMs: number): Promise<number | null> {
    const start = Date.now();
    while (Date.now() - start <= withinMs) {
      const [verified, introspected] = await Promise.all([verify(token), introspect(token)]);
      if (!verified.active && !introspected.active) return Date.now() - start;
      await sleep(20);
    }
    return null;
  }

  const eventOf = (of: StandInDevice, changes: Partial<DeviceEventPayload>): DeviceEventPayload => ({
    eventId: randomUUID(),
    tenant: 'demo',
    deviceId: of.id,
    serial: `serial-${of.id.slice(0, 8)}`,
    type: of.type,
    actor: { type: 'user', id: 'admin-1' },
    at: new Date(clock()).toISOString(),
    fromStatus: 'active',
    toStatus: 'active',
    ownerId: of.ownerId,
    reason: null,
    ...changes,
  });
  /** The registry's side of a change: its state first (it refuses at once), then the event on JetStream. */
  async function publish(contract: EventContract, payload: DeviceEventPayload): Promise<void> {
    await events.publish(contract, payload, { messageId: payload.eventId });
  }

  beforeAll(async () => {
    const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 2,
      module: ({ databaseUrl, messaging }) =>
        TokenModule.forRoot({ tenants, publicUrl, keyEncryption: kek, database: { kind: 'url', url: databaseUrl, poolSize: 4 }, messaging, clock }),
    });
    bus = cluster.client;
    registry = await startStandInRegistry(cluster, state);
    policy = await startStandInPolicy(cluster.transport, policyState);
    // The registry's publisher: a stream of its own on the cluster's NATS.
    events = createEventStream(cluster.transport);
  });

  afterAll(async () => {
    await events?.close();
    await policy?.close();
    await registry?.close();
    await cluster?.stop();
  });

  describe('device tokens (client_credentials)', () => {
    it('carries sub = client_id = the device id, tenant, device_type and owner, with the type\'s scopes and lifetime', async () => {
      const lock = await device('bike-lock');
      const issued = await clientCredentials(await privateKeyJwt(lock));
      expect(issued).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 120, scope: 'openid lock:unlock lock:status' });
      const claims = await claimsOf(issued.access_token);
      expect(claims).toMatchObject({ sub: lock.id, client_id: lock.id, tenant: 'demo', device_type: 'bike-lock', owner: 'user-adam', aud: issuer });
      expect(claims.exp! - claims.iat!).toBe(120);
      // The registry was asked with the assertion and the same audiences a registered client's assertion may name.
      expect(state.authentications.at(-1)).toMatchObject({ tenant: 'demo', deviceId: lock.id, proof: { method: 'private_key_jwt', audiences: [tokenEndpoint, issuer] } });

      await expect(verify(issued.access_token)).resolves.toEqual({ active: true, claims: expect.objectContaining({ sub: lock.id, device_type: 'bike-lock', owner: 'user-adam' }) });
      await expect(introspect(issued.access_token)).resolves.toMatchObject({ active: true, client_id: lock.id, sub: lock.id, tenant: 'demo', device_type: 'bike-lock', owner: 'user-adam' });
      // The policy was asked about the device by its type, once for each of the type's scopes (docs/adr/0023).
      expect(policyState.decisions().filter((decision) => decision.subject.id === lock.id)).toEqual(
        ['openid', 'lock:unlock', 'lock:status'].map((scope) => ({
          subject: { type: 'device', id: lock.id, attributes: { deviceType: 'bike-lock' } },
          action: { name: 'token.scope' },
          resource: { type: 'scope', id: scope },
          context: {},
        })),
      );
    });

    it('takes the device id from the assertion\'s sub when client_id is absent, and omits owner for an unowned device', async () => {
      const lock = await device('bike-lock', { ownerId: null });
      const issued = await clientCredentials(await privateKeyJwt(lock, undefined, false), 'lock:status');
      expect(issued.scope).toBe('lock:status');
      const claims = await claimsOf(issued.access_token);
      expect(claims).toMatchObject({ sub: lock.id, client_id: lock.id, device_type: 'bike-lock' });
      expect(claims).not.toHaveProperty('owner');
      expect((await introspect(issued.access_token)).owner).toBeUndefined();
    });

    it('gives a device of an undeclared type no scopes and the tenant\'s lifetime; scopes follow the usual rules', async () => {
      const toaster = await device('toaster');
      const issued = await clientCredentials(await privateKeyJwt(toaster));
      expect(issued).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 });
      expect(await claimsOf(issued.access_token)).toMatchObject({ sub: toaster.id, device_type: 'toaster' });
      await expect(clientCredentials(await privateKeyJwt(toaster), 'lock:unlock')).rejects.toMatchObject({ code: 'invalid_scope' });
      const lock = await device('bike-lock');
      await expect(clientCredentials(await privateKeyJwt(lock), 'lock:unlock meter:report')).rejects.toMatchObject({ code: 'invalid_scope' });
    });

    it('accepts a shared secret (basic or post) only for a type that allows it', async () => {
      const meter = await device('meter', { jwks: 0, secret: 'meter-secret' });
      for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
        const issued = await clientCredentials({ method, clientId: meter.id, clientSecret: 'meter-secret' });
        expect(issued).toMatchObject({ scope: 'meter:report', expires_in: 600 });
        expect(await claimsOf(issued.access_token)).toMatchObject({ sub: meter.id, device_type: 'meter' });
      }
      expect(state.authentications.at(-1)).toMatchObject({ deviceId: meter.id, proof: { method: 'client_secret', secret: 'meter-secret' } });
      // The registry vouches for this lock's secret, but bike-lock devices may not use one.
      const lock = await device('bike-lock', { jwks: 0, secret: 'lock-secret' });
      await expect(clientCredentials({ method: 'client_secret_basic', clientId: lock.id, clientSecret: 'lock-secret' })).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it('case=should fail with the same invalid_client for a wrong key, a wrong secret, an unknown or suspended device, and none', async () => {
      const lock = await device('bike-lock', { jwks: 2 });
      const stranger = await device('bike-lock');
      const signedByStranger = { method: 'private_key_jwt' as const, clientId: lock.id, assertion: await assertion(stranger) };
      const meter = await device('meter', { jwks: 0, secret: 'meter-secret' });
      const suspended = await device('bike-lock');
      suspended.status = 'suspended';
      const attempts: ClientAuthentication[] = [
        signedByStranger,
        { method: 'client_secret_basic', clientId: meter.id, clientSecret: 'wrong' },
        await privateKeyJwt(suspended),
        { method: 'client_secret_post', clientId: randomUUID(), clientSecret: 'whatever' },
        { method: 'none', clientId: lock.id },
      ];
      for (const attempt of attempts) {
        await expect(clientCredentials(attempt)).rejects.toMatchObject({ code: 'invalid_client', message: 'client authentication failed' });
      }
      // As for an unknown registered client.
      await expect(clientCredentials({ method: 'client_secret_basic', clientId: 'nobody', clientSecret: 'x' })).rejects.toMatchObject({ code: 'invalid_client', message: 'client authentication failed' });
    });

    it('lets a registered client with a UUID id win over a device with the same id, without asking the registry', async () => {
      await device('bike-lock', { id: REGISTERED_UUID, secret: 'registered-secret' });
      const asked = state.authentications.length;
      const issued = await clientCredentials({ method: 'client_secret_basic', clientId: REGISTERED_UUID, clientSecret: 'registered-secret' });
      expect(issued.scope).toBe('svc:read');
      const claims = await claimsOf(issued.access_token);
      expect(claims).toMatchObject({ sub: REGISTERED_UUID, client_id: REGISTERED_UUID });
      expect(claims).not.toHaveProperty('device_type');
      // The device's key is no proof for the registered client (which does not use private_key_jwt).
      await expect(clientCredentials(await privateKeyJwt(state.devices.get(REGISTERED_UUID)!))).rejects.toMatchObject({ code: 'invalid_client' });
      expect(state.authentications.length).toBe(asked);
    });

    it('case=should fail with unavailable (not invalid_client) while the registry is down', async () => {
      const lock = await device('bike-lock');
      await registry.close();
      try {
        await expect(clientCredentials(await privateKeyJwt(lock))).rejects.toMatchObject({ code: 'unavailable' });
        await expect(clientCredentials({ method: 'client_secret_post', clientId: lock.id, clientSecret: 'x' })).rejects.toMatchObject({ code: 'unavailable' });
        // Registered clients do not depend on the registry.
        await expect(clientCredentials(rs)).resolves.toMatchObject({ token_type: 'Bearer' });
      } finally {
        registry = await startStandInRegistry(cluster, state);
      }
      await expect(clientCredentials(await privateKeyJwt(lock))).resolves.toMatchObject({ token_type: 'Bearer' });
    });
  });

  describe('revocation by device events on JetStream', () => {
    it('makes a suspended device\'s tokens inactive within a second; after reactivation it gets tokens that work', async () => {
      const lock = await device('bike-lock');
      const other = await device('bike-lock');
      const [first, second, others] = await Promise.all([clientCredentials(await privateKeyJwt(lock)), clientCredentials(await privateKeyJwt(lock)), clientCredentials(await privateKeyJwt(other))]);
      expect((await verify(first.access_token)).active).toBe(true);

      lock.status = 'suspended';
      await publish(DeviceSuspended, eventOf(lock, { fromStatus: 'active', toStatus: 'suspended', reason: 'stolen' }));
      const elapsed = await inactiveAfter(first.access_token, 1000);
      expect(elapsed).not.toBeNull();
      await expect(introspect(second.access_token)).resolves.toEqual({ active: false });
      await expect(verify(second.access_token)).resolves.toEqual({ active: false });
      // Another device's tokens live on; the suspended device gets none.
      await expect(verify(others.access_token)).resolves.toMatchObject({ active: true });
      await expect(clientCredentials(await privateKeyJwt(lock))).rejects.toMatchObject({ code: 'invalid_client' });

      // Reactivated (the registry accepts it again): from the second after the change (and the 100 ms
      // allowance) on, its new tokens are active.
      lock.status = 'active';
      advance(1.1);
      const fresh = await clientCredentials(await privateKeyJwt(lock));
      await expect(verify(fresh.access_token)).resolves.toMatchObject({ active: true });
      await expect(introspect(fresh.access_token)).resolves.toMatchObject({ active: true, sub: lock.id });
      // The old ones stay revoked.
      await expect(verify(first.access_token)).resolves.toEqual({ active: false });
    });

    it('makes every live token inactive when one of the device\'s credentials is revoked; the other key keeps working', async () => {
      const lock = await device('bike-lock', { jwks: 2 });
      const [leaked, kept] = lock.credentials;
      const [byLeaked, byKept] = await Promise.all([clientCredentials(await privateKeyJwt(lock, leaked)), clientCredentials(await privateKeyJwt(lock, kept))]);

      leaked!.status = 'revoked';
      await publish(DeviceCredentialRevoked, eventOf(lock, { credentialId: leaked!.id, reason: 'key leaked' }));
      expect(await inactiveAfter(byLeaked.access_token, 1000)).not.toBeNull();
      // A token cannot tell which key authenticated it: all of the device's tokens up to the cut-off go.
      await expect(verify(byKept.access_token)).resolves.toEqual({ active: false });
      await expect(clientCredentials(await privateKeyJwt(lock, leaked))).rejects.toMatchObject({ code: 'invalid_client' });
      advance(1.1);
      const fresh = await clientCredentials(await privateKeyJwt(lock, kept));
      await expect(verify(fresh.access_token)).resolves.toMatchObject({ active: true });
    });

    it('revokes a token whose authentication the registry answered just before the change, however late it was signed', async () => {
      const lock = await device('bike-lock');
      lock.replyDelayMs = 1200;
      const pending = clientCredentials(await privateKeyJwt(lock));
      while (!state.authentications.some((request) => request.deviceId === lock.id)) await sleep(5);
      // The registry found the device active; while its answer travels, the device is suspended.
      const asked = state.authentications.find((request) => request.deviceId === lock.id)!.receivedAt;
      lock.status = 'suspended';
      await publish(DeviceSuspended, eventOf(lock, { toStatus: 'suspended' }));
      const issued = await pending;
      // Signed more than a second after the registry was asked, but dated by the authentication.
      expect((await claimsOf(issued.access_token)).iat).toBeLessThanOrEqual(Math.floor(asked / 1000));
      expect(await inactiveAfter(issued.access_token, 1000)).not.toBeNull();
    });

    it('makes a decommissioned device\'s tokens inactive', async () => {
      const lock = await device('bike-lock');
      const issued = await clientCredentials(await privateKeyJwt(lock));
      lock.status = 'decommissioned';
      await publish(DeviceDecommissioned, eventOf(lock, { fromStatus: 'active', toStatus: 'decommissioned' }));
      expect(await inactiveAfter(issued.access_token, 1000)).not.toBeNull();
    });

    it('handles the same event twice, and an older one after a newer one, without harm', async () => {
      const feed = cluster.replicas[0]!.get(DeviceRevocationFeed, { strict: false });
      const lock = await device('bike-lock');
      const before = await clientCredentials(await privateKeyJwt(lock));
      const suspended = eventOf(lock, { toStatus: 'suspended' });
      await feed.handle(DeviceSuspended, suspended);
      await feed.handle(DeviceSuspended, suspended);
      await expect(verify(before.access_token)).resolves.toEqual({ active: false });

      advance(1.1);
      const after = await clientCredentials(await privateKeyJwt(lock));
      // The same event again (a redelivery, later) and an older event change nothing for the new token.
      await feed.handle(DeviceSuspended, suspended);
      await feed.handle(DeviceCredentialRevoked, { ...suspended, eventId: randomUUID(), at: new Date(clock() - 60_000).toISOString(), credentialId: lock.credentials[0]!.id });
      await expect(verify(after.access_token)).resolves.toMatchObject({ active: true });
      await expect(verify(before.access_token)).resolves.toEqual({ active: false });
    });
  });

  describe('RFC 8628 with a device as the client', () => {
    const bianca = () => ({ userId: 'user-bianca', authTime: Math.floor(clock() / 1000) - 5, amr: ['pwd'], acr: 'urn:latchkey:acr:pwd' });
    const startFlow = async (of: StandInDevice) => bus.send(DeviceAuthorization, { tenant: 'demo', client: await privateKeyJwt(of), parameters: { scope: 'openid lock:status' } });
    const approve = (userCode: string) => bus.send(DecideDeviceCode, { tenant: 'demo', userCode, decision: 'approve', subject: bianca() });
    const lookup = (userCode: string) => bus.send(LookupUserCode, { tenant: 'demo', userCode, clientIp: '198.51.100.20' });
    const poll = async (of: StandInDevice, deviceCode: string) =>
      bus.send(IssueToken, { tenant: 'demo', grantType: DEVICE_CODE_GRANT_TYPE, client: await privateKeyJwt(of), parameters: { device_code: deviceCode } });

    it('binds an unowned device to the approving user; a registry that is down fails the approval with unavailable, and it can be retried', async () => {
      const lock = await device('bike-lock', { ownerId: null });
      const flow = await startFlow(lock);
      await expect(lookup(flow.user_code)).resolves.toEqual({ clientId: lock.id, clientName: 'Bike lock', scopes: ['openid', 'lock:status'] });

      await registry.close();
      try {
        await expect(approve(flow.user_code)).rejects.toMatchObject({ code: 'unavailable' });
      } finally {
        registry = await startStandInRegistry(cluster, state);
      }
      // Nothing was recorded: the code is still pending, the device still unowned.
      expect(lock.ownerId).toBeNull();
      await expect(poll(lock, flow.device_code)).rejects.toMatchObject({ code: 'authorization_pending' });
      await expect(lookup(flow.user_code)).resolves.toMatchObject({ clientId: lock.id });

      await expect(approve(flow.user_code)).resolves.toEqual({ approved: true });
      expect(state.bindings.at(-1)).toEqual({ tenant: 'demo', deviceId: lock.id, userId: 'user-bianca' });
      expect(lock.ownerId).toBe('user-bianca');

      const tokens = await poll(lock, flow.device_code);
      expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid lock:status', expires_in: 120 });
      expect(tokens.refresh_token).toBeUndefined();
      expect(await claimsOf(tokens.access_token)).toMatchObject({ sub: 'user-bianca', client_id: lock.id });
      // The device's own token now names its owner.
      expect(await claimsOf((await clientCredentials(await privateKeyJwt(lock))).access_token)).toMatchObject({ sub: lock.id, owner: 'user-bianca' });
    });

    it('leaves a device that has an owner with its owner; suspending the device revokes the user token it holds', async () => {
      const lock = await device('bike-lock', { ownerId: 'user-adam' });
      const flow = await startFlow(lock);
      await expect(approve(flow.user_code)).resolves.toEqual({ approved: true });
      expect(state.bindings.at(-1)).toMatchObject({ deviceId: lock.id, userId: 'user-bianca' });
      expect(lock.ownerId).toBe('user-adam');
      const tokens = await poll(lock, flow.device_code);
      expect(tokens).toMatchObject({ scope: 'openid lock:status' });
      // sub is the user, client_id the device: the device's cut-off covers it too.
      lock.status = 'suspended';
      await publish(DeviceSuspended, eventOf(lock, { toStatus: 'suspended' }));
      expect(await inactiveAfter(tokens.access_token, 1000)).not.toBeNull();
    });

    it('case=should fail with invalid_grant when another device polls with the device code', async () => {
      const lock = await device('bike-lock', { ownerId: null });
      const other = await device('bike-lock', { ownerId: null });
      const flow = await startFlow(lock);
      await expect(poll(other, flow.device_code)).rejects.toMatchObject({ code: 'invalid_grant' });
    });
  });
});
