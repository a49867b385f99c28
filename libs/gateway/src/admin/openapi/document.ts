import type { z } from 'zod';
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
  403: 'The token lacks the scope (`error="insufficient_scope"`) or may not do this',
  404: 'No such tenant or device (another tenant’s device is not found either)',
  409: 'Conflict: the serial is taken, or the transition is not allowed (`details`: `from`, `action`)',
  413: 'The body is too large or has too many rows',
  415: 'Unsupported Content-Type',
  422: 'The body is not valid (`errors` lists the issues)',
  429: 'Too many attempts; try again later',
  503: 'A service is temporarily unavailable (retry later; a bulk upload reports the rows that were done)',
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
  const path = [...operation.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: `${PATH_PARAMETERS[name as string] ?? name} (UUID; anything else is a 404)`,
    schema: { type: 'string', format: 'uuid' },
  }));
  const query = (operation.query ?? []).map((parameter) => ({ name: parameter.name, in: 'query', required: false, description: parameter.description, schema: parameter.schema }));
  return [...path, ...query];
}

function operationObject(operation: ApiOperation): JsonSchema {
  const { body, reply } = operation;
  const problems = [...new Set([...operation.problems, ...(operation.access ? [401, 403] : []), 404, 503])].sort((a, b) => a - b);
  const replySchema = reply.name ? schemaRef(reply.name) : { type: 'object' };
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    security: operation.access ? [{ oauth2: [...operation.access.scopes] }] : [],
    parameters: parametersOf(operation),
    ...(body
      ? {
          requestBody: {
            required: body.required,
            ...(body.description ? { description: body.description } : {}),
            content: Object.fromEntries(body.mediaTypes.map((type) => [type, { schema: type === 'text/csv' ? { type: 'string', description: 'CSV with a header row (see the operation description)' } : schemaRef(body.name) }])),
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

/**
 * The OpenAPI 3.1 document of a tenant's device APIs, from the operations table and the contracts'
 * zod schemas (`z.toJSONSchema`): the admin API (OAuth 2.0 client credentials) and the claim API
 * (a person's token from the authorization-code flow).
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
      description: 'Device registry administration (`/admin/v1`) and device claiming (`/v1`) for this tenant. Tokens of another tenant are refused. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: issuer }],
    tags: [
      { name: 'devices', description: 'Device administration (apps and services: client credentials)' },
      { name: 'claim', description: 'Claiming a device (a person)' },
      { name: 'self', description: 'A device about itself (the device’s own token)' },
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
            clientCredentials: { tokenUrl: `${issuer}/oauth2/token`, scopes: scopes([SCOPES.read, SCOPES.write]) },
            authorizationCode: { authorizationUrl: `${issuer}/oauth2/authorize`, tokenUrl: `${issuer}/oauth2/token`, scopes: scopes([SCOPES.claim, SCOPES.read]) },
          },
        },
      },
    },
  };
}
