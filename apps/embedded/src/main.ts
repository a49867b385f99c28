import 'reflect-metadata';
import { parseEnv } from '@latchkey/config';
import { initMetrics } from '@latchkey/messaging';
import { bootOrExit } from '@latchkey/runtime';
import { startEmbeddedPlatform } from './embedded-platform.js';
import { EmbeddedEnv } from './embedded.env.js';

bootOrExit(async () => {
  const env = parseEnv(EmbeddedEnv);
  // Before the HTTP app names the process `gateway`: here every service runs in this one process.
  initMetrics('embedded');
  const platform = await startEmbeddedPlatform({
    dataDir: env.LATCHKEY_DATA_DIR,
    tenants: env.TENANTS_FILE,
    publicUrl: env.PUBLIC_URL,
    port: env.PORT,
    host: env.HOST,
    kek: env.LATCHKEY_KEK,
    ...(env.LATCHKEY_GATEWAY_KEY ? { cookieKey: env.LATCHKEY_GATEWAY_KEY } : {}),
    requestTimeoutMs: env.NATS_REQUEST_TIMEOUT_MS,
    logLevel: env.LOG_LEVEL,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void platform.close().finally(() => process.exit(0)));
  }

  const issuer = `${env.PUBLIC_URL}/t/demo`;
  process.stdout.write(
    [
      '',
      `Latchkey is running at ${env.PUBLIC_URL} (all six services in one process; data in ${env.LATCHKEY_DATA_DIR})`,
      `  issuer         ${issuer}`,
      `  discovery      ${issuer}/.well-known/openid-configuration`,
      `  token endpoint ${issuer}/oauth2/token`,
      '  demo client    demo-service / demo-service-secret (client_credentials; scopes devices:read devices:write access:evaluate policy:read policy:write keys:read keys:write)',
      '  demo users     adam / adam-password, bianca / bianca-password',
      '',
      `  try: curl -s -u demo-service:demo-service-secret -d grant_type=client_credentials ${issuer}/oauth2/token`,
      '',
    ].join('\n'),
  );
});
