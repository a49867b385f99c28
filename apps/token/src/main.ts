import 'reflect-metadata';
import { ClockOffsetMs, TokenServiceEnv } from '@latchkey/config';
import { KeyEncryption } from '@latchkey/crypto';
import { runService } from '@latchkey/messaging';
import { bootOrExit, loadDatabaseServiceContext, logLevelsUpTo, useBaselineWasmCompiler } from '@latchkey/runtime';
import { TokenModule } from '@latchkey/token';
import { Logger } from '@nestjs/common';

useBaselineWasmCompiler();

/**
 * `LATCHKEY_CLOCK_OFFSET_MS` (default 0) shifts only the time the token service pins in the policy's
 * scope decisions for delegated tokens (docs/adr/0023), as the delegation service's own variable shifts
 * its clock and the gateway's its policy time: for end-to-end tests only, so that a grant's window and
 * constraints are decided on the same shifted clock everywhere. Token times (`iat`, `exp`) stay real.
 */
const Env = TokenServiceEnv.extend({
  LATCHKEY_CLOCK_OFFSET_MS: ClockOffsetMs,
});

/** The gateway serves the JWKS with `Cache-Control: max-age=60` (docs/adr/0010). */
const GATEWAY_JWKS_MAX_AGE_SECONDS = 60;

bootOrExit(async () => {
  const context = await loadDatabaseServiceContext('token', Env);
  const offsetMs = context.env.LATCHKEY_CLOCK_OFFSET_MS;
  if (offsetMs !== 0) {
    new Logger('Token').warn(`LATCHKEY_CLOCK_OFFSET_MS=${offsetMs}: the delegated tokens' policy clock is shifted by ${offsetMs} ms — for tests only, never in production`);
  }
  const propagationSeconds = context.env.SIGNING_KEY_PROPAGATION_SECONDS;
  if (propagationSeconds <= GATEWAY_JWKS_MAX_AGE_SECONDS) {
    new Logger('Token').warn(
      `SIGNING_KEY_PROPAGATION_SECONDS=${propagationSeconds}: a new signing key signs before every JWKS cached at the gateway (max-age ${GATEWAY_JWKS_MAX_AGE_SECONDS} s) has it — for tests only, never in production`,
    );
  }
  const module = TokenModule.forRoot({
    tenants: context.tenants,
    publicUrl: context.env.PUBLIC_URL,
    keyEncryption: KeyEncryption.fromBase64(context.env.LATCHKEY_KEK),
    database: context.database,
    messaging: context.messaging,
    keyRotation: { intervalMs: context.env.SIGNING_KEY_ROTATION_DAYS * 86_400_000, propagationDelayMs: propagationSeconds * 1000 },
    ...(offsetMs !== 0 ? { delegationPolicyClock: () => Date.now() + offsetMs } : {}),
  });
  await runService({ name: 'token', module, transport: context.transport, queue: 'token', healthPort: context.healthPort, logLevels: logLevelsUpTo(context.logLevel) });
});
