import 'reflect-metadata';
import { IdentityServiceEnv } from '@latchkey/config';
import { KeyEncryption } from '@latchkey/crypto';
import { IdentityModule } from '@latchkey/identity';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('identity', IdentityServiceEnv);
  const kek = context.env.LATCHKEY_KEK;
  const module = IdentityModule.forRoot({
    tenants: context.tenants,
    database: context.database,
    messaging: context.messaging,
    passwordHashing: {
      memoryCost: context.env.PASSWORD_HASH_MEMORY_KIB,
      timeCost: context.env.PASSWORD_HASH_ITERATIONS,
      parallelism: context.env.PASSWORD_HASH_PARALLELISM,
    },
    ...(kek ? { keyEncryption: KeyEncryption.fromBase64(kek) } : {}),
  });
  await runService({ name: 'identity', module, transport: context.transport, queue: 'identity', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
