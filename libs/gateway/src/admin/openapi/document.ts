import type { z } from 'zod';
import { RAW_BODY_MEDIA_TYPES } from '../../http/api-bodies.js';
import { isPolicyRule, type PolicyResourceKind } from '../../policy/route-policy.js';
import { type ApiOperation, OPERATIONS, SCOPE_PURPOSES, SCOPES } from '../operations.js';
import { componentSchemas, type JsonSchema, schemaRef } from './json-schemas.js';

export interface OpenApiOptions {
  /** The tenant's issuer: the base URL of every path and of the OAuth endpoints. */
  issuer: string;
  tenantName: string;
}

/** The OpenAPI path of a Nest route: `admin/v1/devices/:id` → `/admin/v1/devices/{id}`. */
export function openApiPath(nestPath: string): string {
  return `/${nestPath.replace(/^\/+/, '')}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const PATH_PARAMETERS: Readonly<Record<string, string>> = { id: 'The device id', credentialId: 'The credential id' };

const TITLES: Readonly<Record<number, string>> = {
  400: 'Malformed request (bad JSON, query or path; `errors` lists the issues)',
  401: 'No access token, or one that is invalid, expired, revoked or of another tenant (`WWW-Authenticate: Bearer …`)',
  403: 'The token lacks the scope (`error="insufficient_scope"`), or may not do this: the policy denied it (`reasons` lists the policy’s reasons), or a delegated token where only a person’s own token is accepted',
  404: 'No such tenant, device or grant (another tenant’s is not found either)',
  409: 'Conflict: the serial is taken, the transition is not allowed (`details`: `from`, `action`), the grant is no longer active, or the device is not active',
  413: 'The body is too large or has too many rows',
  415: 'Unsupported Content-Type',
  422: 'The body is not valid (`errors` lists the issues)',
  429: 'Too many attempts; try again later',
  503: 'A service is temporarily unavailable, the policy decision point included: nothing was done (retry later; a bulk upload reports the rows that were done)',
};

const PROBLEM: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { pointer: { type: 'string', description: 'JSON Pointer into the body' }, parameter: { type: 'string' }, detail: { type: 'string' } }, required: ['detail'] },
    },
    details: { type: 'object', description: 'What the registry says about a conflict (e.g. `from`, `action`)' },
    reasons: { type: 'array', items: { type: 'string' }, description: 'A policy denial (403): every reason the policy gave, each `code: explanation`' },
    summary: { type: 'object', description: 'Bulk upload stopped (503): the counts of the confirmed rows, and `unconfirmed`' },
    rows: { type: 'array', description: 'Bulk upload stopped (503): the confirmed rows', items: schemaRef('BulkRowOutcome') },
  },
  required: ['type', 'title', 'status', 'detail'],
};

function problemResponse(status: number): JsonSchema {
  return {
    description: TITLES[status] ?? 'Error',
    ...(status === 401 || status === 403 ? { headers: { 'WWW-Authenticate': { description: 'RFC 6750 §3 Bearer challenge', schema: { type: 'string' } } } } : {}),
    content: { 'application/problem+json': { schema: schemaRef('Problem') } },
  };
}

function parametersOf(operation: ApiOperation): JsonSchema[] {
  const path = [...operation.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => {
    const own = operation.params?.[name as string];
    return {
      name,
      in: 'path',
      required: true,
      description: own?.description ?? `${PATH_PARAMETERS[name as string] ?? name} (UUID; anything else is a 404)`,
      schema: own?.schema ?? { type: 'string', format: 'uuid' },
    };
  });
  const query = (operation.query ?? []).map((parameter) => ({ name: parameter.name, in: 'query', required: false, description: parameter.description, schema: parameter.schema }));
  return [...path, ...query];
}

const RESOURCE_WORDS: Readonly<Record<PolicyResourceKind, string>> = {
  device: 'the device of the path (its registry attributes: type, status, owner, location / site, firmware…)',
  'new-device': 'the device the body describes (serial, type, location / site, owner)',
  tenant: 'the tenant',
  'device-list': 'every device of the tenant (`*`), or those the list is narrowed to by `owner` / `attr.site`',
};

/** The route's policy step, in words, after its own description. */
function descriptionOf(operation: ApiOperation): string | undefined {
  const { policy } = operation;
  const rule = policy && isPolicyRule(policy) ? `**Policy:** the decision point must allow \`${policy.action}\` on ${RESOURCE_WORDS[policy.resource]}; a denial is a 403 with the policy’s \`reasons\`, a decision point that cannot be asked a 503.` : undefined;
  return [operation.description, rule].filter(Boolean).join('\n\n') || undefined;
}

/** The schema of one media type of a request body: CSV and binary uploads are not the JSON schema. */
function mediaSchema(type: string, name: string): JsonSchema {
  if (type === 'text/csv') return { type: 'string', description: 'CSV with a header row (see the operation description)' };
  if ((RAW_BODY_MEDIA_TYPES as readonly string[]).includes(type)) return { type: 'string', contentMediaType: type, description: 'Raw bytes (see the operation description)' };
  return schemaRef(name);
}

function operationObject(operation: ApiOperation): JsonSchema {
  const { body, reply } = operation;
  const description = descriptionOf(operation);
  const problems = [...new Set([...operation.problems, ...(operation.access ? [401, 403] : []), 404, 503])].sort((a, b) => a - b);
  const replySchema = reply.name ? schemaRef(reply.name) : { type: 'object' };
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(description ? { description } : {}),
    tags: [operation.tag],
    security: operation.access ? [{ oauth2: [...operation.access.scopes] }] : [],
    parameters: parametersOf(operation),
    ...(body
      ? {
          requestBody: {
            required: body.required,
            ...(body.description ? { description: body.description } : {}),
            content: Object.fromEntries(body.mediaTypes.map((type) => [type, { schema: mediaSchema(type, body.name) }])),
          },
        }
      : {}),
    responses: {
      [String(operation.status)]: {
        description: reply.description,
        ...(reply.headers ? { headers: Object.fromEntries(Object.entries(reply.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
        content: {
          'application/json': { schema: replySchema },
          ...Object.fromEntries(Object.entries(reply.alternatives ?? {}).map(([type, { description }]) => [type, { schema: { type: 'string', description } }])),
        },
      },
      ...Object.fromEntries(problems.map((status) => [String(status), problemResponse(status)])),
    },
  };
}

/** Every request and reply schema of the table, by name. */
function namedSchemas(operations: readonly ApiOperation[]) {
  const requests = new Map<string, z.ZodType>();
  const replies = new Map<string, z.ZodType>();
  for (const { body, reply } of operations) {
    if (body && !requests.has(body.name)) requests.set(body.name, body.schema);
    if (reply.name && reply.schema && !replies.has(reply.name)) replies.set(reply.name, reply.schema);
  }
  return { requests, replies };
}

/** What the document says about the policy step of the guard. */
const POLICY_NOTES =
  '**Policy.** After the token and its scopes, every device administration route and every command asks the tenant’s policy decision point (OPA: roles and attributes, policies/README.md) about its action on its resource; the operation says which. The subject is the token’s: a person with the roles and attributes of their account, an app with the roles of its registration, a device with its type. A denial is a 403 problem whose `reasons` are the policy’s; when the decision point cannot be asked the answer is a 503 and nothing is done. The claim and delegations APIs are decided by the services themselves (ownership), not by the policy. The policy administration API (`/admin/v1/policy`) is granted by its scopes alone (`policy:read`, `policy:write`: administrators only), so that no policy can lock its administrators out. The signing-key routes (`/admin/v1/signing-keys`) are decided by the policy like the device administration (`keys.read`, `keys.rotate`: administrators by default).';

/** What the document says about delegated tokens and the userinfo `delegations` claim (not a route of this document). */
const DELEGATION_NOTES = [
  '**Delegated tokens.** A person who was shared a device gets access tokens that act for its owner: `sub` is the owner, `act.sub` the person acting (RFC 8693 §4.1), `gid` the grant, `aud` the shared resource (`device:<serial>`). Get one by RFC 8693 token exchange at the token endpoint (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, `subject_token` = your own access token, `resource=device:<serial>`, `scope`), or from userinfo. Only the routes tagged `commands` accept them; every other route answers 403. At every use the grant is checked again: revoked, expired or outside its time window is a 401.',
  '**The `delegations` claim.** Userinfo (`GET /oauth2/userinfo`, OpenID Connect Core §5.3) called with a person’s own token that carries the `delegations` scope adds a `delegations` member (schema `DelegationsClaim`): an object keyed by the delegator’s username (a second grant of the same delegator is `<username>#2`, …), each entry a short-lived delegated access token for that grant (`DelegatedToken`), issued to the client that called userinfo. Grants that cannot be used now (not yet valid, outside their time window) are left out. A delegated token never gets this claim.',
].join('\n\n');

/**
 * The OpenAPI 3.1 document of a tenant's device and delegation APIs, from the operations table and the
 * contracts' zod schemas (`z.toJSONSchema`): the admin API (OAuth 2.0 client credentials), the claim,
 * delegations and command APIs (a person's token from the authorization-code flow, or a delegated one).
 */
export function openApiDocument({ issuer, tenantName }: OpenApiOptions, operations: readonly ApiOperation[] = Object.values(OPERATIONS)): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of operations) {
    const path = (paths[openApiPath(operation.path)] ??= {});
    path[operation.method.toLowerCase()] = operationObject(operation);
  }
  const { requests, replies } = namedSchemas(operations);
  const scopes = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, SCOPE_PURPOSES[name] ?? name]));
  return {
    openapi: '3.1.0',
    info: {
      title: `Latchkey device API — ${tenantName}`,
      version: '1.0.0',
      description: `Device registry, policy and signing-key administration (\`/admin/v1\`), device claiming, sharing (delegations) and device commands (\`/v1\`), and the OpenID AuthZEN access evaluation API of the tenant's policy decision point (\`/access/v1\`). Tokens of another tenant are refused. Errors are RFC 9457 problem details.\n\n${POLICY_NOTES}\n\n${DELEGATION_NOTES}`,
    },
    servers: [{ url: issuer }],
    tags: [
      { name: 'devices', description: 'Device administration (apps and services: client credentials)' },
      { name: 'claim', description: 'Claiming a device (a person)' },
      { name: 'self', description: 'A device about itself (the device’s own token)' },
      { name: 'delegations', description: 'Sharing a device with someone (a person’s own token); revoking any grant (administrators)' },
      { name: 'commands', description: 'Commanding a device: its owner’s token, or a delegated token acting for the owner' },
      { name: 'access', description: 'OpenID AuthZEN access evaluation: resource servers asking the policy decision point (client credentials, `access:evaluate`)' },
      { name: 'policy', description: 'The tenant’s authorization policy: its status, a compiled bundle of its own, the default again, its data (administrators: `policy:read`, `policy:write`)' },
      { name: 'keys', description: 'The tenant’s signing keys: their life cycle, and a rotation on demand (administrators: `keys:read`, `keys:write`)' },
      { name: 'meta', description: 'This document' },
    ],
    paths,
    components: {
      schemas: { ...componentSchemas(requests, replies), Problem: PROBLEM },
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          description: 'Access tokens of this tenant (RFC 9068 JWTs), sent as `Authorization: Bearer`.',
          flows: {
            clientCredentials: { tokenUrl: `${issuer}/oauth2/token`, scopes: scopes([SCOPES.read, SCOPES.write, SCOPES.delegationsAdmin, SCOPES.accessEvaluate, SCOPES.policyRead, SCOPES.policyWrite, SCOPES.keysRead, SCOPES.keysWrite]) },
            authorizationCode: {
              authorizationUrl: `${issuer}/oauth2/authorize`,
              tokenUrl: `${issuer}/oauth2/token`,
              scopes: scopes([SCOPES.claim, SCOPES.read, SCOPES.delegationsRead, SCOPES.delegationsWrite, SCOPES.delegationsClaim, SCOPES.unlock, SCOPES.configure]),
            },
          },
        },
      },
    },
  };
}
