import 'reflect-metadata';
import { DeviceRegistryEnv } from '@latchkey/config';
import { DeviceRegistryModule } from '@latchkey/device-registry';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';

useBaselineWasmCompiler();

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('device-registry', DeviceRegistryEnv);
  const module = DeviceRegistryModule.forRoot({ tenants: context.tenants, database: context.database, messaging: context.messaging, publicUrl: context.env.PUBLIC_URL });
  await runService({ name: 'device-registry', module, transport: context.transport, queue: 'device-registry', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
