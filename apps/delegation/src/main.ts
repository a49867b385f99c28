import 'reflect-metadata';
import { DelegationServiceEnv } from '@latchkey/config';
import { DelegationModule } from '@latchkey/delegation';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';
import { Logger } from '@nestjs/common';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('delegation', DelegationServiceEnv);
  const offsetMs = context.env.LATCHKEY_CLOCK_OFFSET_MS;
  if (offsetMs !== 0) {
    new Logger('Delegation').warn(`LATCHKEY_CLOCK_OFFSET_MS=${offsetMs}: the service's clock is shifted by ${offsetMs} ms — for tests only, never in production`);
  }
  const module = DelegationModule.forRoot({
    tenants: context.tenants,
    database: context.database,
    messaging: context.messaging,
    clock: () => Date.now() + offsetMs,
  });
  await runService({ name: 'delegation', module, transport: context.transport, queue: 'delegation', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
