import { readFile } from 'node:fs/promises';
import { CLIENT_AUTHENTICATION_METHODS, ClientId, ClientJwks, DeviceType, PolicyData, ScopeToken, TenantId } from '@latchkey/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './env.js';

const EnvVarName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name');

/** Algorithms a client may register for its ID tokens; each needs a tenant signing key of its own. */
export const ID_TOKEN_SIGNING_ALGS = ['ES256', 'RS256'] as const;

/**
 * A token-bucket limit on token requests (issue #7): `burst` at once, refilled at `tokenRequestsPerSecond`.
 * Enforced by each gateway replica on its own, so the effective limit is this times the replicas.
 */
export const RateLimitConfig = z.strictObject({
  tokenRequestsPerSecond: z.number().min(1).max(100_000),
  burst: z.number().int().min(1).max(1_000_000),
});
export type RateLimitConfig = z.output<typeof RateLimitConfig>;

export const ClientConfig = z
  .strictObject({
    clientId: ClientId,
    displayName: z.string().max(200).optional(),
    /** Plain secret: for development files only. Production uses secretFromEnv or secretHash. */
    secret: z.string().min(1).max(1024).optional(),
    secretFromEnv: EnvVarName.optional(),
    /** SHA-256 (hex) of the secret. */
    secretHash: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest').optional(),
    tokenEndpointAuthMethods: z.array(z.enum(CLIENT_AUTHENTICATION_METHODS)).min(1).default(['client_secret_basic']),
    grantTypes: z.array(z.string().min(1)).min(1),
    scopes: z.array(ScopeToken).default([]),
    /** RFC 6749 §3.1.2: absolute URIs without a fragment, matched by exact string comparison. */
    redirectUris: z.array(z.url().refine((uri) => !uri.includes('#'), 'a redirect URI must not contain a fragment')).default([]),
    accessTokenTtlSeconds: z.number().int().min(30).max(86_400).optional(),
    /** OpenID Connect Registration `id_token_signed_response_alg`. */
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGS).default('ES256'),
    /** Refresh tokens expire this long after the authorization, however often they are used (default 30 days). */
    refreshTokenAbsoluteLifetimeSeconds: z.number().int().min(60).max(31_536_000).optional(),
    /** ... and this long after their last use (default 14 days). */
    refreshTokenIdleLifetimeSeconds: z.number().int().min(60).max(31_536_000).optional(),
    /** RFC 7517 JWK Set of the client's PUBLIC keys for private_key_jwt (RFC 7523 §2.2); private members are refused. */
    jwks: ClientJwks.optional(),
    /** Policy roles of the client itself (client credentials), e.g. `admin` for a back-office service. */
    roles: z.array(z.string().min(1).max(100)).default([]),
    /** This client's token-endpoint rate limit, instead of the tenant's `rateLimits` (issue #7). */
    rateLimit: RateLimitConfig.optional(),
  })
  .refine((c) => [c.secret, c.secretFromEnv, c.secretHash].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of secret, secretFromEnv, secretHash',
  })
  .refine(
    (c) =>
      !c.tokenEndpointAuthMethods.some((m) => m === 'client_secret_basic' || m === 'client_secret_post') ||
      c.secret !== undefined ||
      c.secretFromEnv !== undefined ||
      c.secretHash !== undefined,
    { message: 'a client that authenticates with a secret needs secret, secretFromEnv or secretHash' },
  )
  .refine((c) => !c.tokenEndpointAuthMethods.includes('private_key_jwt') || c.jwks !== undefined, {
    message: 'a client that authenticates with private_key_jwt needs jwks',
  })
  .refine((c) => !c.grantTypes.includes('authorization_code') || c.redirectUris.length > 0, {
    message: 'a client that uses authorization_code needs at least one redirect URI',
  });
export type ClientConfig = z.output<typeof ClientConfig>;

export const UserConfig = z
  .strictObject({
    username: z.string().min(1).max(200).regex(/^[^\s]+$/, 'no white space in a username'),
    /** Plain password: for development files only. */
    password: z.string().min(8).max(1024).optional(),
    passwordFromEnv: EnvVarName.optional(),
    email: z.email().optional(),
    displayName: z.string().max(200).optional(),
    roles: z.array(z.string().min(1).max(100)).default([]),
    attributes: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((u) => !(u.password !== undefined && u.passwordFromEnv !== undefined), { message: 'give at most one of password, passwordFromEnv' });
export type UserConfig = z.output<typeof UserConfig>;

export const DeviceConfig = z.strictObject({
  serial: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  model: z.string().max(200).optional(),
  firmwareVersion: z.string().max(100).optional(),
  location: z.string().max(200).optional(),
  /** Username of the owner, resolved through the identity service. */
  owner: z.string().min(1).max(200).optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type DeviceConfig = z.output<typeof DeviceConfig>;

/** What a kind of device may do as an OAuth client (client_id = its device id). */
export const DeviceTypeConfig = z.strictObject({
  type: DeviceType,
  displayName: z.string().max(200).optional(),
  /** The scopes a device of this type may get with client_credentials (none unless listed). */
  scopes: z.array(ScopeToken).default([]),
  /** Very constrained devices that cannot sign may use a generated shared secret (stored hashed). Off by default. */
  sharedSecret: z.boolean().default(false),
  /** Device tokens' lifetime (default: the tenant's). */
  accessTokenTtlSeconds: z.number().int().min(30).max(3600).optional(),
  /** What a device's owner may do with it, and so may share with others (delegation): e.g. `lock:unlock`. */
  ownerScopes: z.array(ScopeToken).default([]),
});
export type DeviceTypeConfig = z.output<typeof DeviceTypeConfig>;

/** User-to-user delegation (issue #5). */
export const DelegationConfig = z.strictObject({
  /** Scopes a person may share of their own account (resource `*`); none unless listed. */
  accountScopes: z.array(ScopeToken).default([]),
  /** Longest a grant may last (default 365 days). */
  maxGrantSeconds: z.number().int().min(60).max(5 * 365 * 86_400).default(365 * 86_400),
  /** Lifetime of a delegated access token; never beyond its grant (default 300 s). */
  tokenTtlSeconds: z.number().int().min(30).max(3600).default(300),
});
export type DelegationConfig = z.output<typeof DelegationConfig>;

/**
 * The tenant's policy (issue #6): `data` is merged over the policy bundle's own data (role bindings,
 * sites, extra roles…, policies/README.md); `bundleFile` replaces the default bundle with a compiled one
 * (`npm run policy:build -- --src <dir> --out <file>`), absolute or relative to the working directory.
 * Bundles and data activated through the admin API take precedence over both.
 */
export const TenantPolicyConfig = z.strictObject({
  data: PolicyData.default({}),
  bundleFile: z.string().min(1).max(1000).optional(),
});
export type TenantPolicyConfig = z.output<typeof TenantPolicyConfig>;

export const TenantConfig = z.strictObject({
  id: TenantId,
  displayName: z.string().min(1).max(200).optional(),
  /**
   * The tenant's issuer when it is not `${PUBLIC_URL}/t/<id>`: a custom domain that reaches the same
   * gateway (e.g. `https://auth.acme.example/t/acme`). Its path must be `/t/<id>` (the gateway's routes).
   */
  issuer: z
    .url({ protocol: /^https?$/ })
    .refine((issuer) => {
      const url = new URL(issuer);
      return !url.search && !url.hash && !url.username && !url.password;
    }, 'an issuer has no query, fragment or credentials')
    .optional(),
  accessTokenTtlSeconds: z.number().int().min(30).max(3600).default(300),
  signingAlg: z.enum(['ES256']).default('ES256'),
  clients: z.array(ClientConfig).default([]),
  users: z.array(UserConfig).default([]),
  deviceTypes: z.array(DeviceTypeConfig).default([]),
  delegation: DelegationConfig.default({ accountScopes: [], maxGrantSeconds: 365 * 86_400, tokenTtlSeconds: 300 }),
  devices: z.array(DeviceConfig).default([]),
  policy: TenantPolicyConfig.optional(),
  /** Token-endpoint rate limit per client id, per gateway replica (issue #7); none when absent. */
  rateLimits: RateLimitConfig.optional(),
});
export type TenantConfig = z.output<typeof TenantConfig>;

export const TenantsFile = z
  .strictObject({ tenants: z.array(TenantConfig).default([]) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.tenants.forEach((tenant, index) => {
      if (seen.has(tenant.id)) ctx.addIssue({ code: 'custom', path: ['tenants', index, 'id'], message: `duplicate tenant ${tenant.id}` });
      if (tenant.issuer !== undefined && new URL(tenant.issuer).pathname !== `/t/${tenant.id}`) {
        ctx.addIssue({ code: 'custom', path: ['tenants', index, 'issuer'], message: `the issuer's path must be /t/${tenant.id} (the gateway's routes)` });
      }
      seen.add(tenant.id);
      for (const [field, key] of [['clients', 'clientId'], ['users', 'username'], ['deviceTypes', 'type'], ['devices', 'serial']] as const) {
        const names = tenant[field].map((entry) => (entry as unknown as Record<string, string>)[key]);
        const duplicate = names.find((name, i) => names.indexOf(name) !== i);
        if (duplicate) ctx.addIssue({ code: 'custom', path: ['tenants', index, field], message: `duplicate ${key} ${duplicate}` });
      }
    });
  });
export type TenantsFile = z.output<typeof TenantsFile>;

export function parseTenants(text: string, source = 'tenants file'): TenantsFile {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${source} is not valid YAML: ${(error as Error).message}`);
  }
  const result = TenantsFile.safeParse(document);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  registerIssuers(result.data);
  return result.data;
}

export async function loadTenantsFile(path: string): Promise<TenantsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read tenants file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseTenants(text, path);
}

/** A value given inline or through an environment variable, as in the tenants file. */
export function resolveFromEnv(inline: string | undefined, envName: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (inline !== undefined) return inline;
  if (envName === undefined) return undefined;
  const value = env[envName];
  if (!value) throw new ConfigError(`environment variable ${envName} named in the tenants file is not set`);
  return value;
}

/** The issuer of a tenant (ARCHITECTURE: issuer per tenant). */
/**
 * Issuer overrides of the tenants file this process loaded (`tenants[].issuer`). Every service reads
 * the same file at boot, so they all agree on a tenant's issuer without passing it through every call.
 */
const ISSUER_OVERRIDES = new Map<string, string>();

function registerIssuers(file: TenantsFile): void {
  for (const tenant of file.tenants) {
    if (tenant.issuer) ISSUER_OVERRIDES.set(tenant.id, tenant.issuer);
    else ISSUER_OVERRIDES.delete(tenant.id);
  }
}

/** The tenant's issuer: its override from the tenants file, else `${publicUrl}/t/${tenant}`. */
export function issuerOf(publicUrl: string, tenant: string): string {
  return ISSUER_OVERRIDES.get(tenant) ?? `${publicUrl}/t/${tenant}`;
}
