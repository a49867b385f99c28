import 'reflect-metadata';
import { GatewayEnv } from '@latchkey/config';
import { createHttpApp, GatewayModule } from '@latchkey/gateway';
import { bootOrExit, loadServiceContext, logLevelsUpTo } from '@latchkey/runtime';

bootOrExit(async () => {
  const context = await loadServiceContext('gateway', GatewayEnv);
  const module = GatewayModule.forRoot({ tenants: context.tenants, publicUrl: context.env.PUBLIC_URL, messaging: context.messaging, ...(context.env.LATCHKEY_GATEWAY_KEY ? { cookieKey: context.env.LATCHKEY_GATEWAY_KEY } : {}) });
  const app = await createHttpApp(module, logLevelsUpTo(context.logLevel));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(context.env.PORT, context.env.HOST);
  process.stdout.write(`gateway listening on http://${context.env.HOST}:${context.env.PORT} (public URL ${context.env.PUBLIC_URL})\n`);
});
