import { SigningKeyRotated, TokenHealth, TokenRevoked } from '@latchkey/contracts';
import { ContractClient, databaseHealthProvider, EventStream, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { AuthorizationCodes } from './authorization/authorization-codes.js';
import { AuthorizationEndpoint } from './authorization/authorization-endpoint.js';
import { AuthorizationHandler } from './authorization/authorization.handler.js';
import { Interactions } from './authorization/interactions.js';
import { ClientAssertions } from './clients/client-assertions.js';
import { ClientAuthenticator } from './clients/client-authenticator.js';
import { DeviceClients } from './clients/device-clients.js';
import { AppsWithAccess } from './consent/apps-with-access.js';
import { Consents } from './consent/consents.js';
import { DelegatedTokens } from './delegation/delegated-tokens.js';
import { DelegationsClaim } from './delegation/delegations-claim.js';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant.js';
import { RefreshTokenGrant } from './grants/refresh-token.grant.js';
import { ClientRepository } from './clients/client.repository.js';
import { ClientCredentialsGrant } from './grants/client-credentials.grant.js';
import { DeviceCodeGrant } from './grants/device-code.grant.js';
import { TokenExchangeGrant } from './grants/token-exchange.grant.js';
import { DeviceCodes } from './device/device-codes.js';
import { PolicyActivationFeed } from './policy/policy-activation-feed.js';
import { ScopeDecisionCache, ScopeDecisions } from './policy/scope-decisions.js';
import { DeviceFlow } from './device/device-flow.js';
import { DeviceHandler } from './device/device.handler.js';
import { UserCodeThrottle } from './device/user-code-throttle.js';
import { KeyRotation } from './keys/key-rotation.js';
import { type KeyActivation, SigningKeys } from './keys/signing-keys.js';
import { longestConfiguredTokenLifetimeSeconds } from './keys/token-lifetimes.js';
import { TokenReconciler } from './reconcile/token-reconciler.js';
import { TenantDirectory } from '@latchkey/config';
import { TokenEndpoints } from './token-endpoints.js';
import { TokenHandler } from './token.handler.js';
import { TOKEN_OPTIONS, type TokenServiceOptions } from './token.options.js';
import { TokenDatabase } from './token.prisma.js';
import { AccessTokens } from './tokens/access-tokens.js';
import { DeviceRevocationFeed } from './tokens/device-revocation-feed.js';
import { GrantRevocationFeed } from './tokens/grant-revocation-feed.js';
import { IdTokens } from './tokens/id-tokens.js';
import { type AccessTokenRevoker, RefreshTokens } from './tokens/refresh-tokens.js';
import { Revocations } from './tokens/revocations.js';
import { UserTokens } from './tokens/user-tokens.js';

@Injectable()
class TokenLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(TOKEN_OPTIONS) private readonly options: TokenServiceOptions,
    @Inject(SigningKeys) private readonly keys: SigningKeys,
    @Inject(ClientRepository) private readonly clients: ClientRepository,
    @Inject(Revocations) private readonly revocations: Revocations,
    @Inject(KeyRotation) private readonly rotation: KeyRotation,
    @Inject(Interactions) private readonly interactions: Interactions,
    @Inject(AuthorizationCodes) private readonly codes: AuthorizationCodes,
    @Inject(RefreshTokens) private readonly refreshTokens: RefreshTokens,
    @Inject(DeviceCodes) private readonly deviceCodes: DeviceCodes,
    @Inject(UserCodeThrottle) private readonly userCodeThrottle: UserCodeThrottle,
    @Inject(ClientAssertions) private readonly clientAssertions: ClientAssertions,
    @Inject(DeviceRevocationFeed) private readonly deviceRevocations: DeviceRevocationFeed,
    @Inject(GrantRevocationFeed) private readonly grantRevocations: GrantRevocationFeed,
    @Inject(PolicyActivationFeed) private readonly policyActivations: PolicyActivationFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    await new TokenReconciler(this.keys, this.clients).reconcile(this.options.tenants.tenants);
    // A revoked token's record is useless once the token has expired anyway.
    // So are interactions, codes (kept a while past expiry: a late replay still finds and revokes) and families.
    this.sweeper = setInterval(() => {
      const now = new Date();
      Promise.all([
        this.revocations.sweepExpired(now),
        this.interactions.sweepExpired(now),
        this.codes.sweepExpired(new Date(now.getTime() - CODE_RETENTION_MS)),
        this.refreshTokens.sweepExpired(now),
        this.deviceCodes.sweepExpired(new Date(now.getTime() - CODE_RETENTION_MS)),
        this.userCodeThrottle.sweep(),
        this.clientAssertions.sweepExpired(now),
      ]).catch((error: unknown) => new Logger('TokenLifecycle').warn(`expiry sweep failed: ${String(error)}`));
    }, REVOCATION_SWEEP_MS);
    this.sweeper.unref();
    this.rotation.start();
  }

  /**
   * Device and delegation-grant events are consumed before any request is served (docs/adr/0017,
   * 0021), and so are policy activations (docs/adr/0023); a consumer that cannot start fails the boot.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([this.deviceRevocations.start(), this.grantRevocations.start(), this.policyActivations.start()]);
  }

  /** Before the database closes: an event in flight is then either handled or redelivered. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.deviceRevocations.stop(), this.grantRevocations.stop(), this.policyActivations.stop()]);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.rotation.stop();
  }
}

const REVOCATION_SWEEP_MS = 10 * 60_000;
/** Codes (authorization and device) outlive their lifetime by a day, so a replay detected late still revokes what the code issued. */
const CODE_RETENTION_MS = 24 * 3600_000;

function announceActivation(messaging: ContractClient, activation: KeyActivation): Promise<void> {
  return messaging.emit(SigningKeyRotated, {
    tenant: activation.tenant,
    kid: activation.kid,
    activatedAt: activation.activatedAt.toISOString(),
    ...(activation.previousKid ? { previousKid: activation.previousKid } : {}),
    ...(activation.previousPublishedUntil ? { previousPublishedUntil: activation.previousPublishedUntil.toISOString() } : {}),
    ...(activation.reason ? { reason: activation.reason } : {}),
  });
}

const ACCESS_TOKEN_REVOKER = Symbol('ACCESS_TOKEN_REVOKER');

/** The token service: clients, keys, grants, authorization, consent, introspection, revocation. The composition root. */
@Module({})
export class TokenModule {
  static forRoot(options: TokenServiceOptions): DynamicModule {
    const clock = options.clock ?? Date.now;
    const delegationPolicyClock = options.delegationPolicyClock ?? clock;
    const tenants = new TenantDirectory(options.tenants);
    return {
      module: TokenModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [TokenHandler, AuthorizationHandler, DeviceHandler, healthHandlerFor(TokenHealth)],
      providers: [
        { provide: TOKEN_OPTIONS, useValue: options },
        { provide: TokenDatabase, useFactory: () => new TokenDatabase(options.database) },
        {
          provide: SigningKeys,
          inject: [TokenDatabase, ContractClient],
          useFactory: (db: TokenDatabase, messaging: ContractClient) =>
            new SigningKeys(db, options.keyEncryption, {
              ...options.keyRotation,
              clock,
              tenantAlg: (tenant) => tenants.all().find((candidate) => candidate.id === tenant)?.signingAlg ?? 'ES256',
              tenantTokenLifetimeSeconds: (tenant) => {
                const config = tenants.all().find((candidate) => candidate.id === tenant);
                return config ? longestConfiguredTokenLifetimeSeconds(config) : 0;
              },
              onActivated: (activation) => announceActivation(messaging, activation),
            }),
        },
        { provide: KeyRotation, inject: [SigningKeys], useFactory: (keys: SigningKeys) => new KeyRotation(keys, tenants, options.keyRotation, clock) },
        {
          provide: ClientRepository,
          inject: [TokenDatabase],
          useFactory: (db: TokenDatabase) => new ClientRepository(db, options.clientCacheTtlMs ?? 10_000),
        },
        { provide: Revocations, inject: [TokenDatabase], useFactory: (db: TokenDatabase) => new Revocations(db) },
        {
          provide: ACCESS_TOKEN_REVOKER,
          inject: [Revocations, ContractClient],
          useFactory: (revocations: Revocations, messaging: ContractClient): AccessTokenRevoker => ({
            async revokeAccessToken(tenant, jti, clientId, expiresAt) {
              await revocations.revoke(tenant, jti, clientId, expiresAt);
              await messaging.emit(TokenRevoked, { tenant, jti, expiresAt: expiresAt.toISOString() });
            },
          }),
        },
        {
          provide: DeviceRevocationFeed,
          inject: [EventStream, Revocations],
          useFactory: (stream: EventStream, revocations: Revocations) => new DeviceRevocationFeed(stream, revocations, clock, options.deviceRevocation),
        },
        {
          provide: GrantRevocationFeed,
          inject: [EventStream, Revocations],
          useFactory: (stream: EventStream, revocations: Revocations) => new GrantRevocationFeed(stream, revocations, clock),
        },
        { provide: AccessTokens, inject: [SigningKeys], useFactory: (keys: SigningKeys) => new AccessTokens(keys, options.publicUrl, clock) },
        {
          provide: ScopeDecisions,
          inject: [ContractClient],
          useFactory: (policy: ContractClient) =>
            new ScopeDecisions(policy, new ScopeDecisionCache(options.scopeDecisions?.cacheEntries ?? 10_000, clock), clock, options.scopeDecisions),
        },
        {
          provide: PolicyActivationFeed,
          inject: [EventStream, ScopeDecisions],
          useFactory: (stream: EventStream, decisions: ScopeDecisions) =>
            new PolicyActivationFeed(options.messaging.transport, stream, (tenant) => {
              decisions.cache.clearTenant(tenant);
              new Logger('PolicyActivationFeed').log(`tenant ${tenant}: policy activated, cached scope decisions cleared`);
            }),
        },
        { provide: DelegatedTokens, inject: [AccessTokens], useFactory: (accessTokens: AccessTokens) => new DelegatedTokens(accessTokens, options.publicUrl, clock) },
        {
          provide: DelegationsClaim,
          inject: [ClientRepository, ContractClient, DelegatedTokens, ScopeDecisions],
          useFactory: (clients: ClientRepository, delegation: ContractClient, delegatedTokens: DelegatedTokens, scopeDecisions: ScopeDecisions) =>
            new DelegationsClaim(tenants, clients, delegation, delegatedTokens, scopeDecisions, delegationPolicyClock),
        },
        {
          provide: DeviceClients,
          inject: [ContractClient],
          useFactory: (registry: ContractClient) => new DeviceClients(tenants, registry, options.publicUrl, clock),
        },
        { provide: Interactions, inject: [TokenDatabase], useFactory: (db: TokenDatabase) => new Interactions(db, options.authorization?.interactionTtlSeconds ?? 600, clock) },
        { provide: AuthorizationCodes, inject: [TokenDatabase], useFactory: (db: TokenDatabase) => new AuthorizationCodes(db, options.authorization?.codeTtlSeconds ?? 60, clock) },
        { provide: RefreshTokens, inject: [TokenDatabase, ACCESS_TOKEN_REVOKER], useFactory: (db: TokenDatabase, revoker: AccessTokenRevoker) => new RefreshTokens(db, revoker, clock) },
        {
          provide: DeviceCodes,
          inject: [TokenDatabase],
          useFactory: (db: TokenDatabase) => new DeviceCodes(db, clock, options.deviceFlow?.codeTtlSeconds ?? 600, options.deviceFlow?.intervalSeconds ?? 5),
        },
        { provide: UserCodeThrottle, inject: [TokenDatabase], useFactory: (db: TokenDatabase) => new UserCodeThrottle(db, clock, options.deviceFlow?.userCodeThrottle) },
        {
          provide: ClientAssertions,
          inject: [ClientRepository, TokenDatabase],
          useFactory: (clients: ClientRepository, db: TokenDatabase) => new ClientAssertions(clients, db, options.publicUrl, clock, options.clientAssertions),
        },
        {
          provide: ClientAuthenticator,
          inject: [ClientRepository, ClientAssertions, DeviceClients],
          useFactory: (clients: ClientRepository, assertions: ClientAssertions, devices: DeviceClients) => new ClientAuthenticator(clients, assertions, devices),
        },
        {
          provide: DeviceFlow,
          inject: [ClientAuthenticator, ClientRepository, DeviceCodes, UserCodeThrottle, ContractClient],
          useFactory: (authenticator: ClientAuthenticator, clients: ClientRepository, codes: DeviceCodes, throttle: UserCodeThrottle, registry: ContractClient) =>
            new DeviceFlow(tenants, authenticator, clients, codes, throttle, options.publicUrl, registry),
        },
        {
          provide: AuthorizationEndpoint,
          inject: [ClientRepository, Interactions, AuthorizationCodes, TokenDatabase, RefreshTokens],
          useFactory: (clients: ClientRepository, interactions: Interactions, codes: AuthorizationCodes, db: TokenDatabase, refreshTokens: RefreshTokens) =>
            new AuthorizationEndpoint(tenants, clients, interactions, codes, new Consents(db), refreshTokens, options.publicUrl, clock),
        },
        {
          provide: AppsWithAccess,
          inject: [ClientRepository, TokenDatabase],
          useFactory: (clients: ClientRepository, db: TokenDatabase) => new AppsWithAccess(tenants, clients, db, clock),
        },
        {
          provide: TokenEndpoints,
          inject: [SigningKeys, ClientAuthenticator, Revocations, AuthorizationCodes, RefreshTokens, ACCESS_TOKEN_REVOKER, ContractClient, DeviceCodes, AccessTokens, DelegatedTokens, ScopeDecisions],
          useFactory: (
            keys: SigningKeys,
            authenticator: ClientAuthenticator,
            revocations: Revocations,
            codes: AuthorizationCodes,
            refreshTokens: RefreshTokens,
            revoker: AccessTokenRevoker,
            messaging: ContractClient,
            deviceCodes: DeviceCodes,
            accessTokens: AccessTokens,
            delegatedTokens: DelegatedTokens,
            scopeDecisions: ScopeDecisions,
          ) => {
            const userTokens = new UserTokens(accessTokens, new IdTokens(keys, options.publicUrl, clock), options.publicUrl);
            // The grant map: the token endpoint looks a grant up by its grant_type, never switches on it.
            const grants = [
              new ClientCredentialsGrant(accessTokens, scopeDecisions, options.publicUrl),
              new AuthorizationCodeGrant(codes, userTokens, refreshTokens, revoker, options.refreshTokens),
              new RefreshTokenGrant(refreshTokens, userTokens, revoker, options.refreshTokens),
              new DeviceCodeGrant(deviceCodes, userTokens, refreshTokens, revoker, options.refreshTokens),
              new TokenExchangeGrant(accessTokens, revocations, messaging, delegatedTokens, scopeDecisions, options.publicUrl, delegationPolicyClock),
            ];
            return new TokenEndpoints(
              tenants,
              authenticator,
              grants,
              accessTokens,
              revocations,
              { tokenRevoked: (tenant, jti, expiresAt) => messaging.emit(TokenRevoked, { tenant, jti, expiresAt: expiresAt.toISOString() }) },
              keys,
              refreshTokens,
              options.publicUrl,
            );
          },
        },
        databaseHealthProvider('token', TokenDatabase),
        TokenLifecycle,
      ],
    };
  }
}
