import 'reflect-metadata';
import { TokenServiceEnv } from '@latchkey/config';
import { KeyEncryption } from '@latchkey/crypto';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';
import { TokenModule } from '@latchkey/token';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('token', TokenServiceEnv);
  const module = TokenModule.forRoot({
    tenants: context.tenants,
    publicUrl: context.env.PUBLIC_URL,
    keyEncryption: KeyEncryption.fromBase64(context.env.LATCHKEY_KEK),
    database: context.database,
    messaging: context.messaging,
  });
  await runService({ name: 'token', module, transport: context.transport, queue: 'token', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
