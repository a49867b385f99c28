import { describe, expect, it } from '@jest/globals';
import type { Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module.js';
import { OPERATIONS } from '../operations.js';
import { openApiDocument, openApiPath } from './document.js';

const ISSUER = 'https://id.example/t/demo';

/** Every route the gateway's controllers register, as `METHOD /path` relative to `/t/{tenant}`. */
function registeredRoutes(): string[] {
  const controllers = (GatewayModule.forRoot({ tenants: { tenants: [] }, publicUrl: 'https://id.example', messaging: { transport: { kind: 'nats', servers: ['nats://127.0.0.1:1'], name: 't' }, requestTimeoutMs: 1000 } } as never).controllers ?? []) as Type[];
  return controllers.flatMap((controller) => {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    return Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') return [];
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) return [];
      const full = openApiPath([base, path].filter((part) => part && part !== '/').join('/'));
      return [`${RequestMethod[method]} ${full}`];
    });
  });
}

/** The API routes (admin and device APIs), without the `/t/{tenant}` prefix the document's server URL carries. */
function apiRoutes(): string[] {
  return registeredRoutes()
    .filter((route) => /^\w+ \/t\/\{tenant\}\/(admin\/v1|v1)\//.test(route))
    .map((route) => route.replace(' /t/{tenant}', ' '))
    .sort();
}

function documentedRoutes(document: Record<string, unknown>): string[] {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

function refsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsOf);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsOf(inner)));
}

describe('the OpenAPI document', () => {
  const document = openApiDocument({ issuer: ISSUER, tenantName: 'Demo fleet' });

  it('documents exactly the routes the controllers register under /admin/v1 and /v1', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(OPERATIONS).length);
    expect(documentedRoutes(document)).toEqual(routes);
  });

  it('is OpenAPI 3.1 for the tenant, with the client-credentials token URL and the scopes', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: ISSUER }]);
    const oauth2 = (document.components as { securitySchemes: { oauth2: { flows: Record<string, { tokenUrl: string; scopes: Record<string, string> }> } } }).securitySchemes.oauth2;
    expect(oauth2.flows.clientCredentials).toEqual({ tokenUrl: `${ISSUER}/oauth2/token`, scopes: { 'devices:read': expect.any(String), 'devices:write': expect.any(String), 'delegations:admin': expect.any(String) } });
    expect(Object.keys(oauth2.flows.authorizationCode?.scopes ?? {})).toEqual(expect.arrayContaining(['devices:claim', 'delegations:read', 'delegations:write', 'delegations', 'lock:unlock', 'lock:configure']));
  });

  it('documents the delegations API, the commands (a serial is not a UUID) and the delegations claim of userinfo', () => {
    const paths = document.paths as Record<string, Record<string, { tags: string[]; security: unknown; parameters: Array<{ name: string; schema: Record<string, unknown> }> }>>;
    expect(paths['/v1/delegations']?.post?.tags).toEqual(['delegations']);
    expect(paths['/v1/delegations']?.post?.security).toEqual([{ oauth2: ['delegations:write'] }]);
    expect(paths['/admin/v1/delegations/{id}/revoke']?.post?.security).toEqual([{ oauth2: ['delegations:admin'] }]);
    const unlock = paths['/v1/devices/{idOrSerial}/commands/unlock']?.post;
    expect(unlock?.security).toEqual([{ oauth2: ['lock:unlock'] }]);
    expect(unlock?.parameters.find((p) => p.name === 'idOrSerial')?.schema).not.toHaveProperty('format');
    expect(paths['/v1/devices/{idOrSerial}/commands/configure']?.post?.security).toEqual([{ oauth2: ['lock:configure'] }]);
    const schemas = (document.components as { schemas: Record<string, { type?: string; additionalProperties?: unknown; required?: string[] }> }).schemas;
    expect(schemas.DelegationsClaim).toMatchObject({ type: 'object', additionalProperties: { $ref: '#/components/schemas/DelegatedToken' } });
    expect(schemas.DelegatedToken?.required).toEqual(expect.arrayContaining(['access_token', 'token_type', 'expires_in', 'scope', 'resource', 'grant_id']));
    expect((document.info as { description: string }).description).toMatch(/`delegations` claim[\s\S]*DelegationsClaim/);
    expect(schemas.NewDelegation?.required).toEqual(expect.arrayContaining(['delegatee', 'resource', 'scopes', 'expiresAt']));
  });

  it('resolves every $ref to a component schema', () => {
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    const refs = new Set(refsOf(document));
    expect(refs.size).toBeGreaterThan(5);
    for (const ref of refs) expect(Object.keys(schemas)).toContain(ref.replace('#/components/schemas/', ''));
  });

  it('describes requests from the contracts (e.g. NewDevice requires serial and type) and errors as problem+json', () => {
    const schemas = (document.components as { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> }).schemas;
    expect(schemas.NewDevice?.required).toEqual(expect.arrayContaining(['serial', 'type']));
    expect(schemas.DevicePage?.properties).toHaveProperty('nextCursor');
    const create = (document.paths as Record<string, Record<string, { security: unknown; responses: Record<string, { content?: Record<string, unknown> }> }>>)['/admin/v1/devices']?.post;
    expect(create?.security).toEqual([{ oauth2: ['devices:write'] }]);
    expect(Object.keys(create?.responses['422']?.content ?? {})).toEqual(['application/problem+json']);
    expect(Object.keys(create?.responses ?? {})).toEqual(expect.arrayContaining(['201', '401', '403', '409', '422']));
  });

  it('survives a schema zod cannot describe', async () => {
    const { z } = await import('zod');
    const odd = { ...OPERATIONS.getDevice, operationId: 'odd', path: 'admin/v1/odd', reply: { name: 'Odd', schema: z.object({ at: z.date(), n: z.bigint(), f: z.custom<string>(() => true) }), description: 'odd' } };
    const built = openApiDocument({ issuer: ISSUER, tenantName: 'x' }, [odd]);
    expect((built.components as { schemas: Record<string, unknown> }).schemas.Odd).toBeDefined();
  });
});
