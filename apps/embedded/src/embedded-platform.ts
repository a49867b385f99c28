import { join, resolve } from 'node:path';
import { loadTenantsFile, type TenantsFile } from '@latchkey/config';
import { KeyEncryption } from '@latchkey/crypto';
import { DelegationModule } from '@latchkey/delegation';
import { DeviceRegistryModule } from '@latchkey/device-registry';
import { createHttpApp, GatewayModule } from '@latchkey/gateway';
import { IdentityModule, type PasswordHashingParameters } from '@latchkey/identity';
import { InProcessBroker, InProcessServer, type MessagingOptions } from '@latchkey/messaging';
import { type DatabaseConfig, type EmbeddedPostgres, migrateAll, startEmbeddedPostgres } from '@latchkey/persistence';
import { PolicyModule } from '@latchkey/policy';
import { logLevelsUpTo } from '@latchkey/runtime';
import { TokenModule } from '@latchkey/token';
import { type LogLevel, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { developmentKek } from './embedded.env.js';

@Module({})
class EmbeddedPlatform {}

export interface EmbeddedPlatformOptions {
  dataDir: string;
  tenants: TenantsFile | string;
  publicUrl: string;
  port: number;
  host: string;
  kek?: string;
  requestTimeoutMs: number;
  logLevel: LogLevel;
  passwordHashing?: Partial<PasswordHashingParameters>;
  /** The gateway's CSRF / signed-cookie key; a random one per process when absent. */
  cookieKey?: Uint8Array;
}

export interface RunningEmbeddedPlatform {
  app: NestFastifyApplication;
  postgres: EmbeddedPostgres;
  /** Where the HTTP edge actually listens (the port may have been 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * The whole platform in one process for a developer's machine: the six service modules wired through
 * an in-process broker (messages still serialised and validated by the contracts) over an embedded
 * PostgreSQL. docs/adr/0005-embedded-mode.md says why and where it differs from production.
 */
export async function startEmbeddedPlatform(options: EmbeddedPlatformOptions): Promise<RunningEmbeddedPlatform> {
  const dataDir = resolve(options.dataDir);
  const tenants = typeof options.tenants === 'string' ? await loadTenantsFile(options.tenants) : options.tenants;
  const postgres = await startEmbeddedPostgres(join(dataDir, 'pglite'));
  const keyEncryption = KeyEncryption.fromBase64(developmentKek(dataDir, options.kek));
  try {
    await migrateAll(postgres.pool);
    const broker = new InProcessBroker();
    const messaging: MessagingOptions = { transport: { kind: 'in-process', broker }, requestTimeoutMs: options.requestTimeoutMs };
    const database: DatabaseConfig = { kind: 'shared-pool', pool: postgres.pool };
    const { publicUrl } = options;
    const app = await createHttpApp(
      {
        module: EmbeddedPlatform,
        imports: [
          GatewayModule.forRoot({ tenants, publicUrl, messaging, ...(options.cookieKey ? { cookieKey: options.cookieKey } : {}) }),
          TokenModule.forRoot({ tenants, publicUrl, keyEncryption, database, messaging }),
          IdentityModule.forRoot({ tenants, database, messaging, keyEncryption, passwordHashing: options.passwordHashing }),
          DeviceRegistryModule.forRoot({ tenants, database, messaging, publicUrl }),
          DelegationModule.forRoot({ tenants, database, messaging }),
          PolicyModule.forRoot({ tenants, database, messaging }),
        ],
      },
      logLevelsUpTo(options.logLevel),
    );
    app.connectMicroservice({ strategy: new InProcessServer(broker) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.listen(options.port, options.host);
    const address = app.getHttpServer().address() as { port: number };
    return {
      app,
      postgres,
      url: `http://${options.host}:${address.port}`,
      async close() {
        // The embedded database closes after the services that use it.
        await app.close();
        await postgres.close();
      },
    };
  } catch (error) {
    await postgres.close();
    throw error;
  }
}
