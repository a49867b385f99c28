import 'reflect-metadata';
import { DelegationModule } from '@latchkey/delegation';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('delegation');
  const module = DelegationModule.forRoot({ database: context.database, messaging: context.messaging });
  await runService({ name: 'delegation', module, transport: context.transport, queue: 'delegation', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
