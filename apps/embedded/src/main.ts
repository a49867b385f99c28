import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { loadTenantsFile, parseEnv } from '@latchkey/config';
import { KeyEncryption } from '@latchkey/crypto';
import { DelegationModule } from '@latchkey/delegation';
import { DeviceRegistryModule } from '@latchkey/device-registry';
import { createHttpApp, GatewayModule } from '@latchkey/gateway';
import { IdentityModule } from '@latchkey/identity';
import { InProcessBroker, InProcessServer, type MessagingOptions } from '@latchkey/messaging';
import { type DatabaseConfig, migrateAll, startEmbeddedPostgres } from '@latchkey/persistence';
import { PolicyModule } from '@latchkey/policy';
import { bootOrExit, logLevelsUpTo } from '@latchkey/runtime';
import { TokenModule } from '@latchkey/token';
import { Module } from '@nestjs/common';
import { developmentKek, EmbeddedEnv } from './embedded.env.js';

@Module({})
class EmbeddedPlatform {}

/**
 * The whole platform in one process for a developer's machine: the six service modules wired through
 * an in-process broker (messages still serialised and validated by the contracts) over an embedded
 * PostgreSQL. docs/adr/0005-embedded-mode.md says why and where it differs from production.
 */
bootOrExit(async () => {
  const env = parseEnv(EmbeddedEnv);
  const dataDir = resolve(env.LATCHKEY_DATA_DIR);
  const tenants = await loadTenantsFile(env.TENANTS_FILE);
  const postgres = await startEmbeddedPostgres(join(dataDir, 'pglite'));
  await migrateAll(postgres.pool);

  const broker = new InProcessBroker();
  const messaging: MessagingOptions = { transport: { kind: 'in-process', broker }, requestTimeoutMs: env.NATS_REQUEST_TIMEOUT_MS };
  const database: DatabaseConfig = { kind: 'shared-pool', pool: postgres.pool };
  const publicUrl = env.PUBLIC_URL;

  const app = await createHttpApp(
    {
      module: EmbeddedPlatform,
      imports: [
        GatewayModule.forRoot({ tenants, publicUrl, messaging }),
        TokenModule.forRoot({ tenants, publicUrl, keyEncryption: KeyEncryption.fromBase64(developmentKek(dataDir, env.LATCHKEY_KEK)), database, messaging }),
        IdentityModule.forRoot({ tenants, database, messaging }),
        DeviceRegistryModule.forRoot({ tenants, database, messaging }),
        DelegationModule.forRoot({ database, messaging }),
        PolicyModule.forRoot({ database, messaging }),
      ],
    },
    logLevelsUpTo(env.LOG_LEVEL),
  );
  app.connectMicroservice({ strategy: new InProcessServer(broker) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(env.PORT, env.HOST);
  // The embedded database must close after the services that use it, so shutdown is ordered here.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app
        .close()
        .then(() => postgres.close())
        .finally(() => process.exit(0));
    });
  }

  const issuer = `${publicUrl}/t/demo`;
  process.stdout.write(
    [
      '',
      `Latchkey is running at ${publicUrl} (all services in one process, data in ${dataDir})`,
      `  issuer         ${issuer}`,
      `  discovery      ${issuer}/.well-known/openid-configuration`,
      `  token endpoint ${issuer}/oauth2/token`,
      '  demo client    demo-service / demo-service-secret (client_credentials, scopes devices:read devices:write)',
      '  demo users     adam / adam-password, bianca / bianca-password',
      '',
      `  try: curl -s -u demo-service:demo-service-secret -d grant_type=client_credentials ${issuer}/oauth2/token`,
      '',
    ].join('\n'),
  );
});
