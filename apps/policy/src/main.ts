import 'reflect-metadata';
import { PolicyModule } from '@latchkey/policy';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('policy');
  const module = PolicyModule.forRoot({ tenants: context.tenants, database: context.database, messaging: context.messaging });
  await runService({ name: 'policy', module, transport: context.transport, queue: 'policy', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
