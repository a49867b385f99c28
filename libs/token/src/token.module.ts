import { SigningKeyRotated, TokenHealth, TokenRevoked } from '@latchkey/contracts';
import { ContractClient, databaseHealthProvider, healthHandlerFor, MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClientAuthenticator } from './clients/client-authenticator.js';
import { ClientRepository } from './clients/client.repository.js';
import { ClientCredentialsGrant } from './grants/client-credentials.grant.js';
import { KeyRotation } from './keys/key-rotation.js';
import { type KeyActivation, SigningKeys } from './keys/signing-keys.js';
import { TokenReconciler } from './reconcile/token-reconciler.js';
import { TenantDirectory } from './tenant-directory.js';
import { TokenEndpoints } from './token-endpoints.js';
import { TokenHandler } from './token.handler.js';
import { TOKEN_OPTIONS, type TokenServiceOptions } from './token.options.js';
import { TokenDatabase } from './token.prisma.js';
import { AccessTokens } from './tokens/access-tokens.js';
import { Revocations } from './tokens/revocations.js';

@Injectable()
class TokenLifecycle implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(TOKEN_OPTIONS) private readonly options: TokenServiceOptions,
    @Inject(SigningKeys) private readonly keys: SigningKeys,
    @Inject(ClientRepository) private readonly clients: ClientRepository,
    @Inject(Revocations) private readonly revocations: Revocations,
    @Inject(KeyRotation) private readonly rotation: KeyRotation,
  ) {}

  async onModuleInit(): Promise<void> {
    await new TokenReconciler(this.keys, this.clients).reconcile(this.options.tenants.tenants);
    // A revoked token's record is useless once the token has expired anyway.
    this.sweeper = setInterval(() => {
      this.revocations.sweepExpired().catch((error: unknown) => new Logger('TokenLifecycle').warn(`revocation sweep failed: ${String(error)}`));
    }, REVOCATION_SWEEP_MS);
    this.sweeper.unref();
    this.rotation.start();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.rotation.stop();
  }
}

const REVOCATION_SWEEP_MS = 10 * 60_000;

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

/** The token service: clients, keys, grants, introspection, revocation. The composition root. */
@Module({})
export class TokenModule {
  static forRoot(options: TokenServiceOptions): DynamicModule {
    const clock = options.clock ?? Date.now;
    const tenants = new TenantDirectory(options.tenants);
    return {
      module: TokenModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [TokenHandler, healthHandlerFor(TokenHealth)],
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
              tenantTokenLifetimeSeconds: (tenant) => tenants.all().find((candidate) => candidate.id === tenant)?.accessTokenTtlSeconds ?? 0,
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
          provide: TokenEndpoints,
          inject: [SigningKeys, ClientRepository, Revocations, ContractClient],
          useFactory: (keys: SigningKeys, clients: ClientRepository, revocations: Revocations, messaging: ContractClient) => {
            const accessTokens = new AccessTokens(keys, options.publicUrl, clock);
            return new TokenEndpoints(
              tenants,
              new ClientAuthenticator(clients),
              [new ClientCredentialsGrant(accessTokens, options.publicUrl)],
              accessTokens,
              revocations,
              { tokenRevoked: (tenant, jti, expiresAt) => messaging.emit(TokenRevoked, { tenant, jti, expiresAt: expiresAt.toISOString() }) },
              keys,
            );
          },
        },
        databaseHealthProvider('token', TokenDatabase),
        TokenLifecycle,
      ],
    };
  }
}
