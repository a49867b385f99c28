import { isIP } from 'node:net';
import { z } from 'zod';

/** A configuration problem found at boot; its message names every bad variable and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment once, at boot. Nothing else in a service reads `process.env`. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

const LIST = /\s*,\s*/;

export const NatsUrls = z
  .string()
  .min(1)
  .transform((value) => value.split(LIST).filter(Boolean))
  .pipe(z.array(z.string().regex(/^(nats|tls|ws|wss):\/\/[^\s]+$/, 'a NATS URL looks like nats://host:4222')).min(1));

export const PostgresUrl = z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, 'a PostgreSQL URL looks like postgres://user:pass@host:5432/db');

export const PublicUrl = z
  .url({ protocol: /^https?$/, error: 'PUBLIC_URL must be an http(s) URL' })
  .transform((value) => value.replace(/\/+$/, ''));

export const Port = z.coerce.number().int().min(0).max(65535);

/** An optional variable where an empty value (e.g. `NAME=` in a compose file) means "not set". */
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((value) => value || undefined);

/** proxy-addr's names for whole ranges, accepted by Fastify's `trustProxy` like addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrRange(value: string): boolean {
  if (PROXY_RANGE_NAMES.includes(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (!family || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * The peers whose `X-Forwarded-For` / `-Proto` / `-Host` the gateway believes: comma-separated IP
 * addresses or CIDR ranges of the reverse proxies in front of it (an ingress controller's pods), or
 * `loopback`, `linklocal`, `uniquelocal`. Default: none, so a client cannot choose the address the
 * login, device-code and claim-code throttles count it under by sending the header itself.
 */
export const TrustedProxies = z
  .string()
  .transform((value) => value.split(LIST).filter(Boolean))
  .pipe(z.array(z.string().refine(isAddressOrRange, 'TRUSTED_PROXIES lists IP addresses or CIDR ranges (e.g. 10.42.0.0/16), comma-separated')))
  .default([]);

/** Variables every service reads. */
export const CommonEnv = z.object({
  NATS_URL: NatsUrls.default(['nats://127.0.0.1:4222']),
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(1500),
  /**
   * How the service proves itself to NATS, when the server requires it: the path of a `.creds` file
   * (user JWT + nkey seed, NATS's decentralised auth; read again at every reconnect, so a rotated file
   * is picked up) or a token. At most one (checked at boot); neither means no authentication.
   */
  NATS_CREDS_FILE: optionalText(),
  NATS_TOKEN: optionalText(),
  TENANTS_FILE: z.string().min(1).default('config/tenants.dev.yaml'),
  /** Nest's level names, plus the usual `info` and `trace`. */
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'log', 'debug', 'trace', 'verbose'])
    .default('log')
    .transform((level) => (level === 'info' ? 'log' : level === 'trace' ? 'verbose' : level)),
  /** `json`: one JSON object per line (log collectors; the chart sets it), with `trace_id` when tracing; `text` for people. */
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
});

/** Variables of a service that owns a database schema. */
export const DatabaseServiceEnv = CommonEnv.extend({
  DATABASE_URL: PostgresUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Port of the small HTTP server that answers Kubernetes probes; 0 turns it off. */
  HEALTH_PORT: Port.default(0),
  /**
   * At boot the service waits (at most this long) until its schema has the latest migration its code
   * knows, applied by the migration Job (`scripts/db-migrate.mjs`), then starts; past it, it exits with
   * a message naming the missing migration. 0 skips the check.
   */
  SCHEMA_WAIT_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(3600).default(240),
});

/** The key-encryption key: 32 random bytes, base64 (e.g. `openssl rand -base64 32`). */
export const KeyEncryptionKey = z
  .string()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32, 'LATCHKEY_KEK must be 32 random bytes, base64-encoded');

export const TokenServiceEnv = DatabaseServiceEnv.extend({
  LATCHKEY_KEK: KeyEncryptionKey,
  PUBLIC_URL: PublicUrl.default('http://localhost:3000'),
  /** Signing-key rotation (docs/adr/0010): the schedule rotates each tenant's keys after this many days of signing. */
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int('SIGNING_KEY_ROTATION_DAYS must be a whole number of days').min(1).max(365).default(30),
  /**
   * How long a new signing key is in the JWKS before it signs: longer than verifiers cache the JWKS
   * (the gateway lets it be cached 60 s), so that none meets a token of a key it has not fetched.
   * Raise it when resource servers cache the JWKS longer; below 60 s it is for tests only (the token
   * service warns at boot).
   */
  SIGNING_KEY_PROPAGATION_SECONDS: z.coerce.number().int('SIGNING_KEY_PROPAGATION_SECONDS must be a whole number of seconds').min(1).max(86_400).default(120),
});

/**
 * The key of the gateway's CSRF tokens and signed cookies: at least 32 random bytes, base64. Replicas
 * behind one public URL must share it; without it each process makes its own at start (one replica,
 * development), and open sign-in pages stop working when it restarts.
 */
export const GatewayCookieKey = z
  .string()
  .refine((value) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length >= 32, 'LATCHKEY_GATEWAY_KEY must be at least 32 random bytes, base64-encoded')
  .transform((value) => new Uint8Array(Buffer.from(value, 'base64')));

export const GatewayEnv = CommonEnv.extend({
  PORT: Port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: PublicUrl.default('http://localhost:3000'),
  LATCHKEY_GATEWAY_KEY: GatewayCookieKey.optional(),
  TRUSTED_PROXIES: TrustedProxies,
});

/** The device registry puts `${PUBLIC_URL}/t/<tenant>/claim?code=…` in the QR codes of claim codes. */
export const DeviceRegistryEnv = DatabaseServiceEnv.extend({
  PUBLIC_URL: PublicUrl.default('http://localhost:3000'),
});

/**
 * `LATCHKEY_CLOCK_OFFSET_MS`: milliseconds by which a service shifts the clock its policy time is read
 * from (delegation, gateway, token; default 0), within ten years — for end-to-end tests only.
 */
export const ClockOffsetMs = z.coerce
  .number()
  .int('LATCHKEY_CLOCK_OFFSET_MS must be an integer (milliseconds)')
  .min(-10 * 365 * 86_400_000)
  .max(10 * 365 * 86_400_000)
  .default(0);

/**
 * The delegation service. `LATCHKEY_CLOCK_OFFSET_MS` shifts its clock by that many milliseconds (default
 * 0): for end-to-end tests only, so that a grant's weekday and time-of-day constraints do not depend on
 * the day the tests run. The service warns at boot when it is set.
 */
export const DelegationServiceEnv = DatabaseServiceEnv.extend({
  LATCHKEY_CLOCK_OFFSET_MS: ClockOffsetMs,
});

/** Identity encrypts TOTP secrets with the key-encryption key; without it, TOTP enrolment is unavailable. */
export const IdentityServiceEnv = DatabaseServiceEnv.extend({
  LATCHKEY_KEK: KeyEncryptionKey.optional(),
  /** argon2id cost for new password hashes; the defaults are OWASP's baseline (19 MiB, 2 passes, 1 lane). */
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(8_192).max(1_048_576).default(19_456),
  PASSWORD_HASH_ITERATIONS: z.coerce.number().int().min(1).max(20).default(2),
  PASSWORD_HASH_PARALLELISM: z.coerce.number().int().min(1).max(16).default(1),
});
