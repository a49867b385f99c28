import 'reflect-metadata';
import { IdentityModule } from '@latchkey/identity';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('identity');
  const module = IdentityModule.forRoot({ tenants: context.tenants, database: context.database, messaging: context.messaging });
  await runService({ name: 'identity', module, transport: context.transport, queue: 'identity', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
