import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import {
  ACCESS_TOKEN_TYPE,
  type ClientAuthentication,
  ContractError,
  DelegationDeclined,
  type DelegationEventPayload,
  DelegationExpired,
  DelegationRevoked,
  type EventContract,
  GetJwks,
  type GrantView,
  IntrospectToken,
  IssueDelegatedTokens,
  IssueToken,
  JWT_TOKEN_TYPE,
  type ParsedRequestOf,
  type ReplyOf,
  RevokeToken,
  TOKEN_EXCHANGE_GRANT_TYPE,
  UseAllGrants,
  UseGrant,
  VerifyAccessToken,
} from '@latchkey/contracts';
import { KeyEncryption } from '@latchkey/crypto';
import { type ContractClient, createEventStream, type EventStream, Handles } from '@latchkey/messaging';
import { type ServiceCluster, startServiceCluster } from '@latchkey/testing';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { permissiveRules, startStandInPolicy, StandInPolicyState } from './test/stand-in-policy.js';
import { TokenModule } from './token.module.js';
import { AccessTokens } from './tokens/access-tokens.js';
import { startStandIn } from './test/stand-in-service.js';

// Delegated tokens (docs/adr/0021) against a real PostgreSQL and NATS (JetStream). The delegation
// service is another service: here a small stand-in on the cluster's NATS answers UseGrant and
// UseAllGrants as the contract describes them, from grants the tests set up. Grant events travel on
// JetStream through the platform's EventStream, as the delegation service's outbox publishes them.
// The policy service's side of scope decisions (docs/adr/0023) is a stand-in too (./test/stand-in-policy.ts).

const publicUrl = 'https://auth.example.test';
const issuer = `${publicUrl}/t/demo`;
const EXCHANGE = TOKEN_EXCHANGE_GRANT_TYPE;
const DELEGATED_TTL = 120;
/** How long the token service waits for a scope decision here. */
const POLICY_TIMEOUT_MS = 400;

const tenants = parseTenants(`
tenants:
  - id: demo
    accessTokenTtlSeconds: 300
    delegation:
      tokenTtlSeconds: ${DELEGATED_TTL}
    clients:
      - clientId: family-app
        secret: family-secret
        grantTypes: [authorization_code, ${EXCHANGE}]
        redirectUris: [https://family.example.test/callback]
        scopes: [openid, lock:unlock, lock:status]
      - clientId: lock-app
        secret: lock-app-secret
        grantTypes: [client_credentials, ${EXCHANGE}]
        scopes: [lock:unlock, lock:status]
      - clientId: other-app
        secret: other-app-secret
        grantTypes: [client_credentials, ${EXCHANGE}]
        scopes: [lock:unlock]
      - clientId: no-exchange
        secret: no-exchange-secret
        grantTypes: [client_credentials]
        scopes: [lock:unlock]
      - clientId: rs
        secret: rs-secret
        grantTypes: [client_credentials]
  - id: other
    delegation:
      tokenTtlSeconds: ${DELEGATED_TTL}
    clients:
      - clientId: family-app
        secret: family-secret
        grantTypes: [authorization_code, ${EXCHANGE}]
        redirectUris: [https://family.example.test/callback]
        scopes: [openid, lock:unlock]
`);

const basic = (clientId: string, secret: string): ClientAuthentication => ({ method: 'client_secret_basic', clientId, clientSecret: secret });
const familyApp = basic('family-app', 'family-secret');
const lockApp = basic('lock-app', 'lock-app-secret');
const otherApp = basic('other-app', 'other-app-secret');
const rs = basic('rs', 'rs-secret');

interface Party {
  type: 'user' | 'client';
  id: string;
}
interface StandInGrant {
  view: GrantView;
  /** The delegatee chain UseGrant answers (default: the delegatee alone). */
  actors?: Party[];
  /** A constraint that refuses now (e.g. outside the time window): `forbidden` with this reason. */
  refuse?: string;
}

/** What the stand-in delegation service knows and what it was asked. */
class DelegationState {
  readonly grants: StandInGrant[] = [];
  readonly useRequests: ParsedRequestOf<typeof UseGrant>[] = [];
  constructor(readonly now: () => number) {}
}

const DELEGATION_STATE = Symbol('DELEGATION_STATE');
const USERNAMES: Record<string, string> = { 'user-adam': 'adam', 'user-bianca': 'bianca', 'user-carl': 'carl', 'user-dora': 'dora' };

/** The delegation service's side of UseGrant and UseAllGrants, as the contract documents them. */
@Controller()
class StandInDelegationService {
  constructor(@Inject(DELEGATION_STATE) private readonly state: DelegationState) {}

  private usable(request: { tenant: string; delegatee: Party }): StandInGrant[] {
    const now = this.state.now();
    return this.state.grants.filter(
      ({ view }) =>
        view.tenant === request.tenant &&
        view.delegatee.type === request.delegatee.type &&
        view.delegatee.id === request.delegatee.id &&
        view.status === 'active' &&
        Date.parse(view.notBefore) <= now &&
        now < Date.parse(view.expiresAt),
    );
  }

  private use(grant: StandInGrant, scopes: string[]): ReplyOf<typeof UseGrant> {
    grant.view.uses += 1;
    return { grant: structuredClone(grant.view), scopes, actors: grant.actors ?? [{ type: grant.view.delegatee.type, id: grant.view.delegatee.id }] };
  }

  @Handles(UseGrant)
  useGrant(request: ParsedRequestOf<typeof UseGrant>): ReplyOf<typeof UseGrant> {
    this.state.useRequests.push(request);
    const grant = this.usable(request).find(
      ({ view }) =>
        (request.resource === undefined || view.resource === request.resource) &&
        (request.delegatorId === undefined || view.delegator.id === request.delegatorId) &&
        (request.grantId === undefined || view.id === request.grantId),
    );
    if (!grant) throw new ContractError('not_found', 'no usable grant');
    if (grant.refuse) throw new ContractError('forbidden', grant.refuse);
    const scopes = request.scopes.length ? request.scopes.filter((scope) => grant.view.scopes.includes(scope)) : grant.view.scopes;
    if (scopes.length === 0) throw new ContractError('invalid_scope', 'every requested scope is outside the grant');
    return this.use(grant, scopes);
  }

  @Handles(UseAllGrants)
  useAllGrants(request: ParsedRequestOf<typeof UseAllGrants>): ReplyOf<typeof UseAllGrants> {
    return { grants: this.usable(request).filter((grant) => !grant.refuse).map((grant) => this.use(grant, grant.view.scopes)) };
  }
}

function startStandInDelegation(cluster: ServiceCluster, state: DelegationState): Promise<INestMicroservice> {
  return startStandIn(cluster.transport, 'delegation', StandInDelegationService, [{ provide: DELEGATION_STATE, useValue: state }]);
}

describe('delegated tokens: RFC 8693 token exchange, the delegations claim, revocation by grant events', () => {
  let cluster: ServiceCluster;
  let bus: ContractClient;
  let delegation: INestMicroservice;
  let policy: INestMicroservice;
  const policyState = new StandInPolicyState();
  let events: EventStream;
  let accessTokens: AccessTokens;
  let offset = 0;
  const clock = () => Date.now() + offset;
  const state = new DelegationState(clock);
  const kek = KeyEncryption.fromBase64(randomBytes(32).toString('base64'));

  /** A grant of the stand-in, active from a minute ago; `expiresInMs` from now (default a day). */
  function grant(options: {
    delegator?: string;
    /** The owner at the top of a re-delegation chain (default: the delegator). */
    rootDelegator?: string;
    delegatee?: Party;
    resource?: string;
    scopes?: string[];
    expiresInMs?: number;
    createdAgoMs?: number;
    actors?: Party[];
    refuse?: string;
    tenant?: string;
  }): StandInGrant {
    const now = clock();
    const delegator = options.delegator ?? 'user-adam';
    const delegatee = options.delegatee ?? { type: 'user', id: 'user-bianca' };
    const created = new Date(now - (options.createdAgoMs ?? 60_000)).toISOString();
    const view: GrantView = {
      id: randomUUID(),
      tenant: options.tenant ?? 'demo',
      delegator: { id: delegator, name: USERNAMES[delegator] ?? delegator },
      rootDelegatorId: options.rootDelegator ?? delegator,
      delegatee: { ...delegatee, name: USERNAMES[delegatee.id] ?? delegatee.id },
      resource: options.resource ?? 'device:lock-1',
      scopes: options.scopes ?? ['lock:unlock'],
      notBefore: created,
      expiresAt: new Date(now + (options.expiresInMs ?? 86_400_000)).toISOString(),
      constraints: null,
      redelegation: { allowed: false, maxDepth: 0 },
      depth: (options.actors?.length ?? 1) - 1,
      parentId: null,
      status: 'active',
      uses: 0,
      createdAt: created,
      updatedAt: created,
      endedAt: null,
      endedBy: null,
      reason: null,
    };
    const entry: StandInGrant = { view, ...(options.actors ? { actors: options.actors } : {}), ...(options.refuse ? { refuse: options.refuse } : {}) };
    state.grants.push(entry);
    return entry;
  }

  /** A person's own access token, signed by the token service with the tenant's key (as the code flow would). */
  async function personToken(userId: string, clientId = 'family-app', tenant = 'demo'): Promise<string> {
    const { token } = await accessTokens.issue({ tenant, subject: userId, clientId, audience: `${publicUrl}/t/${tenant}`, scopes: ['openid'], lifetimeSeconds: 300 });
    return token;
  }
  const clientToken = async (auth: ClientAuthentication) => (await bus.send(IssueToken, { tenant: 'demo', grantType: 'client_credentials', client: auth, parameters: {} })).access_token;

  const exchange = (parameters: Record<string, string>, auth: ClientAuthentication = familyApp, tenant = 'demo') => bus.send(IssueToken, { tenant, grantType: EXCHANGE, client: auth, parameters });
  const asSubject = (token: string, extra: Record<string, string> = {}) => ({ subject_token: token, subject_token_type: ACCESS_TOKEN_TYPE, ...extra });
  const verify = (token: string) => bus.send(VerifyAccessToken, { tenant: 'demo', token });
  const introspect = (token: string) => bus.send(IntrospectToken, { tenant: 'demo', client: rs, token });
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

  /** The delegation service's side of a grant ending: its state first, then the event on JetStream. */
  async function end(of: StandInGrant, contract: EventContract, status: GrantView['status']): Promise<void> {
    of.view.status = status;
    const payload: DelegationEventPayload = {
      eventId: randomUUID(),
      tenant: of.view.tenant,
      grantId: of.view.id,
      parentId: of.view.parentId,
      delegatorId: of.view.delegator.id,
      delegatee: { type: of.view.delegatee.type, id: of.view.delegatee.id },
      resource: of.view.resource,
      scopes: of.view.scopes,
      expiresAt: of.view.expiresAt,
      actor: { type: 'user', id: of.view.delegator.id },
      at: new Date(clock()).toISOString(),
      reason: null,
    };
    await events.publish(contract, payload, { messageId: payload.eventId });
  }

  beforeAll(async () => {
    cluster = await startServiceCluster({
      queue: 'token',
      replicas: 2,
      module: ({ databaseUrl, messaging }) =>
        TokenModule.forRoot({
          tenants,
          publicUrl,
          keyEncryption: kek,
          database: { kind: 'url', url: databaseUrl, poolSize: 4 },
          messaging,
          clock,
          scopeDecisions: { timeoutMs: POLICY_TIMEOUT_MS },
        }),
    });
    bus = cluster.client;
    accessTokens = cluster.replicas[0]!.get(AccessTokens, { strict: false });
    delegation = await startStandInDelegation(cluster, state);
    policy = await startStandInPolicy(cluster.transport, policyState);
    events = createEventStream(cluster.transport);
  });

  afterAll(async () => {
    await events?.close();
    await policy?.close();
    await delegation?.close();
    await cluster?.stop();
  });

  describe('person for person (subject_token = the delegatee\'s own token)', () => {
    it('issues sub = the delegator, act.sub = the delegatee, gid, aud = the resource, the granted scope, within the grant', async () => {
      const shared = grant({ scopes: ['lock:unlock', 'lock:status'] });
      const bianca = await personToken('user-bianca');
      const issued = await exchange(asSubject(bianca, { resource: 'device:lock-1', scope: 'lock:unlock' }));
      expect(issued).toEqual({ access_token: expect.any(String), issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: DELEGATED_TTL, scope: 'lock:unlock' });
      expect(issued.refresh_token).toBeUndefined();
      expect(state.useRequests.at(-1)).toEqual({ tenant: 'demo', delegatee: { type: 'user', id: 'user-bianca' }, resource: 'device:lock-1', scopes: ['lock:unlock'] });

      const claims = await claimsOf(issued.access_token);
      expect(claims).toMatchObject({ sub: 'user-adam', act: { sub: 'user-bianca' }, gid: shared.view.id, aud: 'device:lock-1', client_id: 'family-app', scope: 'lock:unlock', tenant: 'demo' });
      expect(claims.exp! - claims.iat!).toBe(DELEGATED_TTL);
      expect(claims.exp! * 1000).toBeLessThanOrEqual(Date.parse(shared.view.expiresAt));

      await expect(verify(issued.access_token)).resolves.toEqual({ active: true, claims: expect.objectContaining({ sub: 'user-adam', act: { sub: 'user-bianca' }, gid: shared.view.id }) });
      await expect(introspect(issued.access_token)).resolves.toMatchObject({ active: true, sub: 'user-adam', client_id: 'family-app', aud: 'device:lock-1', act: { sub: 'user-bianca' }, gid: shared.view.id });
      // Token exchange is not single use: the same request again gives another token (the grant counts the uses).
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-1', scope: 'lock:unlock' }))).resolves.toMatchObject({ scope: 'lock:unlock' });
      expect(shared.view.uses).toBe(2);
    });

    it('takes everything the grant allows that the client may carry when no scope is asked; audience works as resource, the jwt type as subject type', async () => {
      const shared = grant({ resource: 'device:lock-2', scopes: ['lock:unlock', 'lock:configure', 'lock:status'] });
      const issued = await exchange({ subject_token: await personToken('user-bianca'), subject_token_type: JWT_TOKEN_TYPE, audience: 'device:lock-2' });
      // lock:configure is not registered for family-app.
      expect(issued.scope).toBe('lock:unlock lock:status');
      expect(await claimsOf(issued.access_token)).toMatchObject({ gid: shared.view.id, aud: 'device:lock-2', scope: 'lock:unlock lock:status' });
    });

    it('gives the issuer as aud for a grant of the account (*), named by * or by the issuer', async () => {
      const account = grant({ delegator: 'user-dora', resource: '*', scopes: ['lock:status'] });
      for (const resource of ['*', issuer]) {
        const issued = await exchange(asSubject(await personToken('user-bianca'), { resource }));
        expect(await claimsOf(issued.access_token)).toMatchObject({ sub: 'user-dora', aud: issuer, gid: account.view.id });
      }
      expect(state.useRequests.at(-1)).toMatchObject({ resource: '*' });
    });

    it('nests act from the grant chain: a re-delegated grant Adam → Bianca → Carl, Carl acting', async () => {
      const chain = grant({ delegator: 'user-bianca', rootDelegator: 'user-adam', delegatee: { type: 'user', id: 'user-carl' }, resource: 'device:lock-3', actors: [{ type: 'user', id: 'user-bianca' }, { type: 'user', id: 'user-carl' }] });
      const issued = await exchange(asSubject(await personToken('user-carl'), { resource: 'device:lock-3' }));
      expect(await claimsOf(issued.access_token)).toMatchObject({ sub: 'user-adam', act: { sub: 'user-carl', act: { sub: 'user-bianca' } }, gid: chain.view.id });
    });

    it('never outlives the grant: a grant ending in 40 s gives a token of at most 40 s; one ending within a second gives none', async () => {
      const short = grant({ resource: 'device:lock-short', expiresInMs: 40_000 });
      const issued = await exchange(asSubject(await personToken('user-bianca'), { resource: 'device:lock-short' }));
      expect(issued.expires_in).toBeLessThanOrEqual(40);
      expect(issued.expires_in).toBeGreaterThanOrEqual(38);
      expect((await claimsOf(issued.access_token)).exp! * 1000).toBeLessThanOrEqual(Date.parse(short.view.expiresAt));

      grant({ resource: 'device:lock-ending', expiresInMs: 900 });
      await expect(exchange(asSubject(await personToken('user-bianca'), { resource: 'device:lock-ending' }))).rejects.toMatchObject({ code: 'invalid_grant' });
    });

    it('case=should fail with invalid_scope for a scope beyond the grant, or one the client is not registered for', async () => {
      const shared = grant({ resource: 'device:lock-4', scopes: ['lock:unlock'] });
      const bianca = await personToken('user-bianca');
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-4', scope: 'lock:status' }))).rejects.toMatchObject({ code: 'invalid_scope' });
      const asked = state.useRequests.length;
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-4', scope: 'lock:configure' }))).rejects.toMatchObject({ code: 'invalid_scope' });
      // Refused before the delegation service is asked: no use counted for a scope the client cannot carry.
      expect(state.useRequests.length).toBe(asked);
      // A grant of only scopes the client cannot carry.
      grant({ resource: 'device:lock-5', scopes: ['lock:configure'] });
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-5' }))).rejects.toMatchObject({ code: 'invalid_scope' });
      expect(shared.view.uses).toBe(0);
    });

    it('case=should fail with invalid_target when no grant covers the resource, invalid_grant when none named', async () => {
      const carol = await personToken('user-nobody');
      await expect(exchange(asSubject(carol, { resource: 'device:lock-1' }))).rejects.toMatchObject({ code: 'invalid_target' });
      await expect(exchange(asSubject(carol))).rejects.toMatchObject({ code: 'invalid_grant' });
      // Not a shared resource, and resource and audience that disagree.
      await expect(exchange(asSubject(carol, { resource: 'https://api.example.test/' }))).rejects.toMatchObject({ code: 'invalid_target' });
      await expect(exchange(asSubject(carol, { resource: 'device:lock-1', audience: 'device:lock-2' }))).rejects.toMatchObject({ code: 'invalid_target' });
    });

    it('case=should fail with invalid_grant naming the reason when the grant\'s constraints refuse now', async () => {
      grant({ resource: 'device:lock-night', refuse: 'outside the time window 22:00-06:00 (Europe/Zurich)' });
      await expect(exchange(asSubject(await personToken('user-bianca'), { resource: 'device:lock-night' }))).rejects.toMatchObject({
        code: 'invalid_grant',
        message: expect.stringContaining('outside the time window'),
      });
    });

    it('case=should fail with invalid_grant for a revoked, expired, forged or other tenant\'s subject token', async () => {
      grant({ resource: 'device:lock-6' });
      const revoked = await personToken('user-bianca');
      await bus.send(RevokeToken, { tenant: 'demo', client: familyApp, token: revoked });
      await expect(exchange(asSubject(revoked, { resource: 'device:lock-6' }))).rejects.toMatchObject({ code: 'invalid_grant' });

      const [head, body] = (await personToken('user-bianca')).split('.');
      await expect(exchange(asSubject(`${head}.${body}.${randomBytes(64).toString('base64url')}`, { resource: 'device:lock-6' }))).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(exchange(asSubject('not-a-token', { resource: 'device:lock-6' }))).rejects.toMatchObject({ code: 'invalid_grant' });

      // Bianca's token of tenant "other", presented at demo (and the other way round): worthless.
      const elsewhere = await personToken('user-bianca', 'family-app', 'other');
      await expect(exchange(asSubject(elsewhere, { resource: 'device:lock-6' }))).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(exchange(asSubject(await personToken('user-bianca'), { resource: 'device:lock-6' }), familyApp, 'other')).rejects.toMatchObject({ code: 'invalid_grant' });

      const expiring = await personToken('user-bianca');
      offset += 301_000;
      try {
        await expect(exchange(asSubject(expiring, { resource: 'device:lock-6' }))).rejects.toMatchObject({ code: 'invalid_grant' });
      } finally {
        offset -= 301_000;
      }
    });

    it('case=should fail with invalid_request for a delegated subject token: re-delegation goes through grants', async () => {
      grant({ resource: 'device:lock-7' });
      const delegated = (await exchange(asSubject(await personToken('user-bianca'), { resource: 'device:lock-7' }))).access_token;
      const asked = state.useRequests.length;
      await expect(exchange(asSubject(delegated, { resource: 'device:lock-7' }))).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('delegated') });
      expect(state.useRequests.length).toBe(asked);
    });

    it('case=should fail for a subject token of another client (invalid_grant) or not a person\'s (invalid_request)', async () => {
      grant({ resource: 'device:lock-8' });
      await expect(exchange(asSubject(await personToken('user-bianca', 'lock-app'), { resource: 'device:lock-8' }))).rejects.toMatchObject({ code: 'invalid_grant' });
      // The client's own token says no person.
      await expect(exchange(asSubject(await clientToken(lockApp), { resource: 'device:lock-8' }), lockApp)).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('case=should fail with invalid_request for wrong token types', async () => {
      const bianca = await personToken('user-bianca');
      await expect(exchange({ subject_token: bianca, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' })).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(exchange({ subject_token: bianca })).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(exchange(asSubject(bianca, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }))).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(exchange(asSubject(bianca, { actor_token_type: ACCESS_TOKEN_TYPE }))).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(exchange(asSubject(bianca, { actor_token: bianca }))).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('case=should fail with unauthorized_client for a client not registered for token exchange', async () => {
      grant({ resource: 'device:lock-9' });
      await expect(exchange(asSubject(await personToken('user-bianca', 'no-exchange'), { resource: 'device:lock-9' }), basic('no-exchange', 'no-exchange-secret'))).rejects.toMatchObject({
        code: 'unauthorized_client',
      });
    });

    it('case=should fail with unavailable (not invalid_grant) while the delegation service is down', async () => {
      grant({ resource: 'device:lock-10' });
      const bianca = await personToken('user-bianca');
      await delegation.close();
      try {
        await expect(exchange(asSubject(bianca, { resource: 'device:lock-10' }))).rejects.toMatchObject({ code: 'unavailable' });
      } finally {
        delegation = await startStandInDelegation(cluster, state);
      }
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-10' }))).resolves.toMatchObject({ token_type: 'Bearer' });
    });
  });

  describe('app for person (actor_token = the app\'s own token)', () => {
    it('issues sub = the person, act.sub = the app, for a grant from that person to the app', async () => {
      const toApp = grant({ delegatee: { type: 'client', id: 'lock-app' }, resource: 'device:lock-20', scopes: ['lock:status'] });
      // Someone else's grant to the app for the same lock does not count for Adam.
      grant({ delegator: 'user-dora', delegatee: { type: 'client', id: 'lock-app' }, resource: 'device:lock-21', scopes: ['lock:status'] });
      const adam = await personToken('user-adam');
      const actor = await clientToken(lockApp);
      const issued = await exchange(asSubject(adam, { actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE, resource: 'device:lock-20' }), lockApp);
      expect(issued).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, scope: 'lock:status' });
      expect(state.useRequests.at(-1)).toEqual({ tenant: 'demo', delegatee: { type: 'client', id: 'lock-app' }, resource: 'device:lock-20', delegatorId: 'user-adam', scopes: [] });
      expect(await claimsOf(issued.access_token)).toMatchObject({ sub: 'user-adam', act: { sub: 'lock-app' }, client_id: 'lock-app', gid: toApp.view.id, aud: 'device:lock-20' });
      // Adam's token names Adam; his grant to the app is the authority, not a grant of Dora's.
      await expect(exchange(asSubject(adam, { actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE, resource: 'device:lock-21' }), lockApp)).rejects.toMatchObject({ code: 'invalid_target' });
    });

    it('case=should fail when the actor token is another client\'s (invalid_grant) or not the app\'s own (invalid_request)', async () => {
      grant({ delegatee: { type: 'client', id: 'lock-app' }, resource: 'device:lock-22' });
      const adam = await personToken('user-adam');
      const asked = state.useRequests.length;
      const othersToken = await clientToken(otherApp);
      await expect(exchange(asSubject(adam, { actor_token: othersToken, actor_token_type: ACCESS_TOKEN_TYPE, resource: 'device:lock-22' }), lockApp)).rejects.toMatchObject({ code: 'invalid_grant' });
      // other-app cannot use lock-app's token as its actor either.
      await expect(exchange(asSubject(adam, { actor_token: await clientToken(lockApp), actor_token_type: ACCESS_TOKEN_TYPE, resource: 'device:lock-22' }), otherApp)).rejects.toMatchObject({ code: 'invalid_grant' });
      // A person's token issued to lock-app is not the app acting for itself.
      await expect(exchange(asSubject(adam, { actor_token: await personToken('user-bianca', 'lock-app'), actor_token_type: ACCESS_TOKEN_TYPE, resource: 'device:lock-22' }), lockApp)).rejects.toMatchObject({ code: 'invalid_request' });
      expect(state.useRequests.length).toBe(asked);
    });
  });

  describe('revocation by grant events on JetStream', () => {
    it('makes every token of a revoked grant inactive within a second; the delegatee\'s own token and other grants\' tokens live on', async () => {
      const shared = grant({ resource: 'device:lock-30' });
      const other = grant({ resource: 'device:lock-31' });
      const bianca = await personToken('user-bianca');
      const [first, second, others] = await Promise.all([
        exchange(asSubject(bianca, { resource: 'device:lock-30' })),
        exchange(asSubject(bianca, { resource: 'device:lock-30' })),
        exchange(asSubject(bianca, { resource: 'device:lock-31' })),
      ]);
      // Revoking the subject token later does not matter: the delegated token stands on the grant.
      await bus.send(RevokeToken, { tenant: 'demo', client: familyApp, token: bianca });
      await expect(verify(first.access_token)).resolves.toMatchObject({ active: true });

      await end(shared, DelegationRevoked, 'revoked');
      expect(await inactiveAfter(first.access_token, 1000)).not.toBeNull();
      await expect(verify(second.access_token)).resolves.toEqual({ active: false });
      await expect(introspect(second.access_token)).resolves.toEqual({ active: false });
      await expect(verify(others.access_token)).resolves.toMatchObject({ active: true, claims: expect.objectContaining({ gid: other.view.id }) });
      const own = await personToken('user-bianca');
      await expect(verify(own)).resolves.toMatchObject({ active: true });
      // And none is issued any more (the delegation service refuses the ended grant).
      await expect(exchange(asSubject(own, { resource: 'device:lock-30' }))).rejects.toMatchObject({ code: 'invalid_target' });
    });

    it('cuts on declined and expired too, and handles the same event twice', async () => {
      for (const [contract, status] of [
        [DelegationDeclined, 'declined'],
        [DelegationExpired, 'expired'],
      ] as const) {
        const shared = grant({ resource: `device:lock-${status}` });
        const issued = await exchange(asSubject(await personToken('user-bianca'), { resource: `device:lock-${status}` }));
        await end(shared, contract, status);
        await end(shared, contract, status);
        expect(await inactiveAfter(issued.access_token, 1000)).not.toBeNull();
      }
    });
  });

  describe('the userinfo delegations claim (IssueDelegatedTokens)', () => {
    it('gives one token per usable grant, keyed by the delegator\'s username, #2 for a younger grant of the same delegator', async () => {
      const dana = { type: 'user', id: 'user-dana' } as const;
      const older = grant({ delegatee: dana, resource: 'device:lock-40', scopes: ['lock:unlock'], createdAgoMs: 7_200_000 });
      const younger = grant({ delegatee: dana, resource: 'device:lock-41', scopes: ['lock:unlock', 'lock:status'], createdAgoMs: 3_600_000, expiresInMs: 50_000 });
      const doras = grant({ delegator: 'user-dora', delegatee: dana, resource: '*', scopes: ['lock:status'] });
      // Nothing family-app may carry: left out.
      grant({ delegator: 'user-carl', delegatee: dana, resource: 'device:lock-42', scopes: ['lock:configure'] });

      const { delegations } = await bus.send(IssueDelegatedTokens, { tenant: 'demo', userId: 'user-dana', clientId: 'family-app' });
      expect(Object.keys(delegations)).toEqual(['adam', 'adam#2', 'dora']);
      expect(delegations.adam).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: DELEGATED_TTL, scope: ['lock:unlock'], resource: 'device:lock-40', grant_id: older.view.id });
      expect(delegations['adam#2']).toMatchObject({ scope: ['lock:unlock', 'lock:status'], resource: 'device:lock-41', grant_id: younger.view.id });
      expect(delegations['adam#2']!.expires_in).toBeLessThanOrEqual(50);
      expect(delegations.dora).toMatchObject({ scope: ['lock:status'], resource: issuer, grant_id: doras.view.id });

      expect(await claimsOf(delegations.adam!.access_token)).toMatchObject({ sub: 'user-adam', act: { sub: 'user-dana' }, gid: older.view.id, client_id: 'family-app', aud: 'device:lock-40' });
      await expect(verify(delegations.dora!.access_token)).resolves.toMatchObject({ active: true, claims: expect.objectContaining({ sub: 'user-dora', gid: doras.view.id }) });
      expect(older.view.uses).toBe(1);
    });

    it('is empty for a user without grants and for a client that is not registered', async () => {
      await expect(bus.send(IssueDelegatedTokens, { tenant: 'demo', userId: 'user-nobody', clientId: 'family-app' })).resolves.toEqual({ delegations: {} });
      await expect(bus.send(IssueDelegatedTokens, { tenant: 'demo', userId: 'user-bianca', clientId: randomUUID() })).resolves.toEqual({ delegations: {} });
    });
  });
  describe('scope decisions by the policy (token.scope, docs/adr/0023)', () => {
    const carl = { type: 'user', id: 'user-carl' } as const;
    /** Runs `body` with other rules of the stand-in policy, then the permissive ones again. */
    async function withRules(rules: Partial<ReturnType<typeof permissiveRules>>, body: () => Promise<void>): Promise<void> {
      policyState.rules = { ...permissiveRules(), ...rules };
      try {
        await body();
      } finally {
        policyState.rules = permissiveRules();
      }
    }

    it('asks about the owner acting through the grant (act, gid, the grant as context) and leaves out a scope the policy denies', async () => {
      const chain = grant({
        delegator: 'user-bianca',
        rootDelegator: 'user-adam',
        delegatee: carl,
        resource: 'device:lock-50',
        scopes: ['lock:unlock', 'lock:status'],
        actors: [{ type: 'user', id: 'user-bianca' }, carl],
      });
      const before = policyState.batches.length;
      const askedAt = clock();
      await withRules({ denied: ['lock:status'] }, async () => {
        const issued = await exchange(asSubject(await personToken('user-carl'), { resource: 'device:lock-50' }));
        expect(issued.scope).toBe('lock:unlock');
        expect(await claimsOf(issued.access_token)).toMatchObject({ sub: 'user-adam', scope: 'lock:unlock', gid: chain.view.id });
      });
      // One round trip for both scopes, decided at the token service's time (pinned, as the gateway does).
      const pinned = policyState.batches.at(-1)!.decisions[0]!.context.time!;
      expect(Math.abs(Date.parse(pinned) - askedAt)).toBeLessThan(5_000);
      expect(policyState.batches.slice(before)).toEqual([
        {
          tenant: 'demo',
          decisions: ['lock:unlock', 'lock:status'].map((scope) => ({
            subject: { type: 'user', id: 'user-adam', act: { sub: 'user-carl', act: { sub: 'user-bianca' } }, gid: chain.view.id },
            action: { name: 'token.scope' },
            resource: { type: 'scope', id: scope },
            context: {
              time: pinned,
              grant: {
                id: chain.view.id,
                status: 'active',
                delegatee: 'user-carl',
                resource: 'device:lock-50',
                scopes: ['lock:unlock', 'lock:status'],
                notBefore: chain.view.notBefore,
                expiresAt: chain.view.expiresAt,
                constraints: null,
              },
            },
          })),
        },
      ]);
    });

    it('case=should fail with invalid_scope when the policy allows none of the scopes, asking again every time (never cached)', async () => {
      grant({ resource: 'device:lock-51', scopes: ['lock:unlock'] });
      const bianca = await personToken('user-bianca');
      // lock:unlock restricted to a role Adam does not have (the token service sends no identity roles).
      await withRules({ restricted: { 'lock:unlock': { roles: ['owner-of-everything'] } } }, async () => {
        const before = policyState.batches.length;
        for (let i = 0; i < 2; i++) {
          await expect(exchange(asSubject(bianca, { resource: 'device:lock-51', scope: 'lock:unlock' }))).rejects.toMatchObject({ code: 'invalid_scope' });
        }
        expect(policyState.batches.length).toBe(before + 2);
      });
      // Allowed decisions about a delegated subject are not reused either: the policy gives them no ttlSeconds.
      const before = policyState.batches.length;
      for (let i = 0; i < 2; i++) await expect(exchange(asSubject(bianca, { resource: 'device:lock-51' }))).resolves.toMatchObject({ scope: 'lock:unlock' });
      expect(policyState.batches.length).toBe(before + 2);
    });

    it('case=should fail with unavailable, never issue unchecked scopes, while the decision point is down or too slow; heals', async () => {
      grant({ resource: 'device:lock-52' });
      const bianca = await personToken('user-bianca');
      await withRules({ replyDelayMs: POLICY_TIMEOUT_MS * 3 }, async () => {
        const started = Date.now();
        await expect(exchange(asSubject(bianca, { resource: 'device:lock-52' }))).rejects.toMatchObject({ code: 'unavailable' });
        // The token service's own deadline, not the caller's.
        expect(Date.now() - started).toBeLessThan(POLICY_TIMEOUT_MS * 3);
      });
      await policy.close();
      try {
        await expect(exchange(asSubject(bianca, { resource: 'device:lock-52' }))).rejects.toMatchObject({ code: 'unavailable' });
        await expect(bus.send(IssueDelegatedTokens, { tenant: 'demo', userId: 'user-bianca', clientId: 'family-app' })).rejects.toMatchObject({ code: 'unavailable' });
      } finally {
        policy = await startStandInPolicy(cluster.transport, policyState);
      }
      await expect(exchange(asSubject(bianca, { resource: 'device:lock-52' }))).resolves.toMatchObject({ scope: 'lock:unlock' });
    });

    it('decides every grant of the delegations claim in one round trip and leaves out a grant the policy allows nothing of', async () => {
      const erin = { type: 'user', id: 'user-erin' } as const;
      const kept = grant({ delegatee: erin, resource: 'device:lock-53', scopes: ['lock:unlock', 'lock:status'] });
      grant({ delegator: 'user-dora', delegatee: erin, resource: 'device:lock-54', scopes: ['lock:status'] });
      const before = policyState.batches.length;
      await withRules({ denied: ['lock:status'] }, async () => {
        const { delegations } = await bus.send(IssueDelegatedTokens, { tenant: 'demo', userId: 'user-erin', clientId: 'family-app' });
        expect(Object.keys(delegations)).toEqual(['adam']);
        expect(delegations.adam).toMatchObject({ scope: ['lock:unlock'], grant_id: kept.view.id });
      });
      const batches = policyState.batches.slice(before);
      expect(batches).toHaveLength(1);
      expect(batches[0]!.decisions.map((decision) => [decision.subject.id, decision.resource.id])).toEqual([
        ['user-adam', 'lock:unlock'],
        ['user-adam', 'lock:status'],
        ['user-dora', 'lock:status'],
      ]);
    });
  });
});
