#!/usr/bin/env node
// The Helm chart's values.schema.json (k8s/helm/latchkey), so that `helm install/upgrade/template/lint`
// refuse bad values before anything reaches the cluster.
//
//   npm run helm:schema              write k8s/helm/latchkey/values.schema.json
//   npm run helm:schema -- --check   fail if the committed file differs from what this script makes
//
// One source of truth for tenants: `tenants[]` is `z.toJSONSchema` of TenantConfig, the zod schema the
// services validate the tenants file with (libs/config/src/tenants.ts, read from its build; this script
// builds libs/config first). zod's refinements are code, not JSON Schema: the ones JSON Schema can say
// are restated in REFINEMENTS below, the others are listed there as checked at service start only. A
// refinement this script does not know about fails the script, so a new one cannot be forgotten.
// The rest of the values (services, NATS, ingress, network policies...) are described by hand below.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const SCHEMA_FILE = join(REPO_ROOT, 'k8s', 'helm', 'latchkey', 'values.schema.json');

const fromRepo = (path) => import(pathToFileURL(join(REPO_ROOT, path)).href);

/** Builds libs/config (and its references) so that the schema comes from the current sources. */
function buildConfig() {
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(REPO_ROOT, 'libs', 'config', 'tsconfig.lib.json')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

function hasCustomCheck(schema) {
  return (schema?._zod?.def?.checks ?? []).some((check) => check?._zod?.def?.check === 'custom');
}

/** `schema` and the clones zod made of it on the way (each `.refine` clones; `_zod.parent` links them). */
function withParents(schema) {
  const all = [];
  for (let current = schema; current; current = current._zod.parent) all.push(current);
  return all;
}

const oneOfRequired = (names) => ({ anyOf: names.map((name) => ({ required: [name] })) });
const listContains = (property, values) => ({ required: [property], properties: { [property]: { contains: { enum: values } } } });

/**
 * Each zod schema of the tenant tree that carries refinements: what JSON Schema can say of them
 * (`json`, merged into its generated schema), and what it cannot (`atStart`: checked by the services
 * when they load the tenants file).
 */
function refinements({ TenantConfig, ClientConfig, UserConfig, PolicyData, ClientJwks, PRIVATE_JWK_MEMBERS }) {
  const secretMethods = ['client_secret_basic', 'client_secret_post'];
  const redirectUri = ClientConfig.shape.redirectUris._zod.def.innerType._zod.def.element;
  return [
    {
      schema: ClientConfig,
      json: {
        allOf: [
          // give at most one of secret, secretFromEnv, secretHash
          { not: { anyOf: [{ required: ['secret', 'secretFromEnv'] }, { required: ['secret', 'secretHash'] }, { required: ['secretFromEnv', 'secretHash'] }] } },
          // a client that authenticates with a secret (the default method does) needs one of them
          { if: { anyOf: [{ not: { required: ['tokenEndpointAuthMethods'] } }, listContains('tokenEndpointAuthMethods', secretMethods)] }, then: oneOfRequired(['secret', 'secretFromEnv', 'secretHash']) },
          // private_key_jwt needs jwks
          { if: listContains('tokenEndpointAuthMethods', ['private_key_jwt']), then: { required: ['jwks'] } },
          // authorization_code needs at least one redirect URI
          { if: listContains('grantTypes', ['authorization_code']), then: { required: ['redirectUris'], properties: { redirectUris: { minItems: 1 } } } },
        ],
      },
    },
    // RFC 6749 §3.1.2: no fragment in a redirect URI
    { schema: redirectUri, json: { pattern: '^[^#]*$' } },
    // an issuer override: http(s), no query, fragment or credentials, path /t/<the tenant id>
    {
      schema: TenantConfig.shape.issuer._zod.def.innerType,
      json: { pattern: '^https?://[^/?#@]+/t/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$' },
      atStart: ["an issuer's path is /t/<its tenant's id>"],
    },
    // give at most one of password, passwordFromEnv
    { schema: UserConfig, json: { not: { required: ['password', 'passwordFromEnv'] } } },
    // the top-level key "latchkey" is reserved
    { schema: PolicyData, json: { not: { required: ['latchkey'] } }, atStart: ['policy data is limited to 256 KiB of JSON'] },
    // a client JWK must be public: no private key members
    {
      schema: ClientJwks._zod.def.in,
      json: { properties: { keys: { items: { not: { anyOf: PRIVATE_JWK_MEMBERS.map((member) => ({ required: [member] })) } } } } },
    },
    { schema: ClientJwks, json: {}, atStart: ['each key is a valid public JWK', 'key ids (kid) are unique'] },
  ];
}

function mergeInto(target, extra) {
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'properties') {
      target.properties ??= {};
      for (const [name, schema] of Object.entries(value)) mergeInto((target.properties[name] ??= {}), schema);
    } else if (key === 'items' && target.items && typeof target.items === 'object') {
      mergeInto(target.items, value);
    } else if (key === 'allOf') {
      target.allOf = [...(target.allOf ?? []), ...value];
    } else {
      target[key] = value;
    }
  }
}

/** The JSON Schema of one tenant, from the services' zod schema. */
export async function tenantJsonSchema() {
  const { z } = await import('zod');
  const config = await fromRepo('libs/config/dist/index.js');
  const contracts = await fromRepo('libs/contracts/dist/index.js');
  const table = refinements({ ...config, ...contracts });
  const known = new Map(table.map((entry) => [entry.schema, entry]));
  const inner = new Set(table.flatMap((entry) => withParents(entry.schema).slice(1)));
  const unknown = [];
  const schema = z.toJSONSchema(config.TenantConfig, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'throw',
    override(ctx) {
      const entry = known.get(ctx.zodSchema);
      if (entry) mergeInto(ctx.jsonSchema, entry.json);
      else if (hasCustomCheck(ctx.zodSchema) && !inner.has(ctx.zodSchema)) unknown.push(ctx.path.join('.') || '(tenant)');
    },
  });
  if (unknown.length > 0) {
    throw new Error(
      `zod refinements without a JSON Schema translation at: ${[...new Set(unknown)].join(', ')}. ` +
        'Add them to refinements() in scripts/helm-schema.mjs (as JSON Schema, or as checked at service start).',
    );
  }
  delete schema.$schema;
  schema.description =
    'A tenant, as the services read it from the tenants file (generated from TenantConfig, libs/config/src/tenants.ts). ' +
    `Checked by the services at start only: unique ids, client ids, usernames, device types and serials per tenant; ${table.flatMap((entry) => entry.atStart ?? []).join('; ')}.`;
  return schema;
}

// ---------------------------------------------------------------------------------------------------
// The rest of the values, by hand.
// ---------------------------------------------------------------------------------------------------

const str = (extra = {}) => ({ type: 'string', ...extra });
const int = (extra = {}) => ({ type: 'integer', ...extra });
const bool = { type: 'boolean' };
/** A Kubernetes structure the API server validates (resources, selectors, env entries...). */
const k8sObject = (description) => ({ type: 'object', ...(description ? { description } : {}) });
const k8sList = (description) => ({ type: 'array', items: { type: 'object' }, ...(description ? { description } : {}) });
const strictObject = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const secretName = str({ pattern: '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253, description: 'the name of an existing Secret ("" = none)' });
const secretKey = str({ pattern: '^[-._a-zA-Z0-9]+$', minLength: 1 });
const existingSecretRef = strictObject({ existingSecret: secretName, key: secretKey });
const peers = (description) => ({
  type: 'array',
  description,
  items: { type: 'object', minProperties: 1, additionalProperties: false, properties: { namespaceSelector: k8sObject(), podSelector: k8sObject(), ipBlock: k8sObject() } },
});
const autoscaling = (extra = {}) =>
  strictObject({
    enabled: bool,
    minReplicas: int({ minimum: 1 }),
    maxReplicas: int({ minimum: 1 }),
    targetCPUUtilizationPercentage: int({ minimum: 1, maximum: 100 }),
    ...extra,
  });

function service(name) {
  const gateway = name === 'gateway';
  return strictObject(
    {
      enabled: bool,
      replicas: int({ minimum: 0 }),
      resources: k8sObject('container resources (requests, limits)'),
      autoscaling: autoscaling(),
      extraEnv: k8sList('extra container env entries (name/value or name/valueFrom)'),
      podAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
      service: gateway
        ? strictObject({ type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }), port: int({ minimum: 1, maximum: 65535 }), annotations: { type: 'object', additionalProperties: { type: 'string' } } })
        : strictObject({ enabled: bool, annotations: { type: 'object', additionalProperties: { type: 'string' } } }, { description: 'a ClusterIP Service on the health port (/healthz, /readyz, /metrics: scraping, diagnostics; no application traffic); on by default' }),
      ...(gateway ? {} : { database: strictObject({ existingSecret: secretName, key: secretKey }, { description: 'this service\'s own database Secret (default: database.*)' }) }),
    },
    { description: `the ${name} service` },
  );
}

export async function valuesJsonSchema() {
  const tenant = await tenantJsonSchema();
  const services = ['gateway', 'identity', 'token', 'delegation', 'device-registry', 'policy'];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Values of the Latchkey Helm chart',
    description: 'Generated by scripts/helm-schema.mjs (npm run helm:schema): do not edit by hand.',
    type: 'object',
    additionalProperties: false,
    properties: {
      global: k8sObject('values shared with a parent chart'),
      nameOverride: str(),
      fullnameOverride: str(),
      image: strictObject({ repository: str({ minLength: 1 }), tag: str(), pullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }) }),
      imagePullSecrets: k8sList(),
      publicUrl: str({ pattern: '^$|^https?://[^\\s/]+(/\\S*)?$', description: 'the gateway\'s public base URL, no trailing slash (required)' }),
      logLevel: str({ enum: ['fatal', 'error', 'warn', 'info', 'log', 'debug', 'trace', 'verbose'] }),
      nats: strictObject({
        url: str({ pattern: '^(nats|tls|ws|wss)://[^\\s,]+(\\s*,\\s*(nats|tls|ws|wss)://[^\\s,]+)*$', description: 'NATS URL(s), comma-separated' }),
        requestTimeoutMs: int({ minimum: 100, maximum: 30000 }),
        auth: strictObject({ credentialsSecret: secretName, credentialsKey: secretKey, tokenSecret: secretName, tokenKey: secretKey }),
      }),
      natsDev: strictObject({
        enabled: bool,
        image: strictObject({ repository: str({ minLength: 1 }), tag: str({ minLength: 1 }), pullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }) }),
        storage: strictObject({ size: str({ minLength: 1 }), storageClassName: str() }),
        resources: k8sObject(),
      }),
      database: strictObject({ existingSecret: secretName, key: secretKey, poolSize: int({ minimum: 1, maximum: 100 }) }),
      gatewayKey: existingSecretRef,
      kek: existingSecretRef,
      tenants: { type: 'array', items: tenant, description: 'the tenants file\'s tenants (docs/operations/kubernetes.md)' },
      services: strictObject(Object.fromEntries(services.map((name) => [name, service(name)]))),
      autoscaling: autoscaling(),
      podDisruptionBudget: strictObject({ enabled: bool, maxUnavailable: { oneOf: [int({ minimum: 0 }), str({ pattern: '^[0-9]+%$' })] } }),
      topologySpread: strictObject({ enabled: bool, topologyKey: str({ minLength: 1 }) }),
      healthPort: int({ minimum: 1, maximum: 65535 }),
      gatewayPort: int({ minimum: 1, maximum: 65535 }),
      probes: strictObject(Object.fromEntries(['startup', 'liveness', 'readiness'].map((probe) => [probe, k8sObject('probe timing (periodSeconds, timeoutSeconds, failureThreshold...)')]))),
      schemaWaitTimeoutSeconds: int({ minimum: 0, maximum: 3600 }),
      ingress: strictObject({
        enabled: bool,
        className: str(),
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
        host: str({ pattern: '^$|^[a-z0-9*]([-a-z0-9.]*[a-z0-9])?$' }),
        tls: strictObject({ enabled: bool, secretName }),
        trustedProxies: {
          type: 'array',
          description: 'IP addresses / CIDR ranges whose X-Forwarded-* the gateway believes (TRUSTED_PROXIES)',
          items: str({ pattern: '^([0-9.]+|[0-9a-fA-F:.]+)(/[0-9]{1,3})?$|^(loopback|linklocal|uniquelocal)$' }),
        },
      }),
      networkPolicy: strictObject({
        enabled: bool,
        ingressController: { ...peers().items, description: 'the ingress controller: the one peer allowed to reach the gateway' },
        gatewayExtraFrom: peers('more peers allowed to reach the gateway'),
        healthFrom: peers('peers allowed to reach the health ports'),
        nats: strictObject({ port: int({ minimum: 1, maximum: 65535 }), to: peers('where NATS is ([] = anywhere, on its port)') }),
        postgres: strictObject({ port: int({ minimum: 1, maximum: 65535 }), to: peers('where PostgreSQL is ([] = anywhere, on its port)') }),
        dns: strictObject({ port: int({ minimum: 1, maximum: 65535 }), to: peers('the cluster DNS') }),
      }),
      migrations: strictObject({
        enabled: bool,
        backoffLimit: int({ minimum: 0 }),
        activeDeadlineSeconds: int({ minimum: 1 }),
        database: strictObject({ existingSecret: secretName, key: secretKey }),
        serviceAccountName: str(),
        resources: k8sObject(),
      }),
      serviceAccount: strictObject({ create: bool, annotations: { type: 'object', additionalProperties: { type: 'string' } }, name: str() }),
      podSecurityContext: k8sObject(),
      securityContext: k8sObject(),
      priorityClassName: str(),
      nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
      tolerations: k8sList(),
      affinity: k8sObject(),
    },
  };
}

export async function renderSchema() {
  return `${JSON.stringify(await valuesJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  try {
    if (!process.argv.includes('--no-build')) buildConfig();
    const text = await renderSchema();
    if (check) {
      let committed = '';
      try {
        committed = readFileSync(SCHEMA_FILE, 'utf8');
      } catch {
        // missing: stale
      }
      if (committed !== text) {
        console.error(`helm-schema: ${SCHEMA_FILE} is not what libs/config's zod schema and scripts/helm-schema.mjs make: run \`npm run helm:schema\` and commit the result`);
        process.exit(1);
      }
      console.log('helm-schema: values.schema.json is up to date');
    } else {
      writeFileSync(SCHEMA_FILE, text);
      console.log(`helm-schema: wrote ${SCHEMA_FILE}`);
    }
  } catch (error) {
    console.error(`helm-schema: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
