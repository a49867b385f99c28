import 'reflect-metadata';
import { ClockOffsetMs, GatewayEnv } from '@latchkey/config';
import { createHttpApp, GatewayModule } from '@latchkey/gateway';
import { bootOrExit, loadServiceContext, logLevelsUpTo } from '@latchkey/runtime';
import { Logger } from '@nestjs/common';

/**
 * `LATCHKEY_CLOCK_OFFSET_MS` (default 0) shifts the time the gateway pins for a delegated token's policy
 * decision, as the delegation service's own variable shifts its clock: for end-to-end tests only, so
 * that a grant's weekday and time-of-day constraints are decided on the same shifted clock everywhere.
 */
const Env = GatewayEnv.extend({
  LATCHKEY_CLOCK_OFFSET_MS: ClockOffsetMs,
});

bootOrExit(async () => {
  const context = await loadServiceContext('gateway', Env);
  const offsetMs = context.env.LATCHKEY_CLOCK_OFFSET_MS;
  if (offsetMs !== 0) {
    new Logger('Gateway').warn(`LATCHKEY_CLOCK_OFFSET_MS=${offsetMs}: the gateway's policy clock is shifted by ${offsetMs} ms — for tests only, never in production`);
  }
  const module = GatewayModule.forRoot({
    tenants: context.tenants,
    publicUrl: context.env.PUBLIC_URL,
    messaging: context.messaging,
    ...(context.env.LATCHKEY_GATEWAY_KEY ? { cookieKey: context.env.LATCHKEY_GATEWAY_KEY } : {}),
    ...(offsetMs !== 0 ? { clock: () => Date.now() + offsetMs } : {}),
  });
  const app = await createHttpApp(module, logLevelsUpTo(context.logLevel), { trustedProxies: context.env.TRUSTED_PROXIES });
  // On SIGTERM Fastify stops accepting connections and answers the requests in flight before the NATS
  // client closes; then the process exits with 0 (a clean exit, not the re-raised signal).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(context.env.PORT, context.env.HOST);
  process.stdout.write(`gateway listening on http://${context.env.HOST}:${context.env.PORT} (public URL ${context.env.PUBLIC_URL})\n`);
});
