import { describe, expect, it } from '@jest/globals';
import type { Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module.js';
import { isPolicyRule } from '../../policy/route-policy.js';
import { ApiRoute } from '../api-route.js';
import { type ApiOperation, OPERATIONS } from '../operations.js';
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

/** The API routes (admin, device and AuthZEN APIs), without the `/t/{tenant}` prefix the document's server URL carries. */
function apiRoutes(): string[] {
  return registeredRoutes()
    .filter((route) => /^\w+ \/t\/\{tenant\}\/(admin\/v1|v1|access\/v1)\//.test(route))
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

  it('documents exactly the routes the controllers register under /admin/v1, /v1 and /access/v1', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(OPERATIONS).length);
    expect(documentedRoutes(document)).toEqual(routes);
  });

  it('is OpenAPI 3.1 for the tenant, with the client-credentials token URL and the scopes', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: ISSUER }]);
    const oauth2 = (document.components as { securitySchemes: { oauth2: { flows: Record<string, { tokenUrl: string; scopes: Record<string, string> }> } } }).securitySchemes.oauth2;
    expect(oauth2.flows.clientCredentials).toEqual({ tokenUrl: `${ISSUER}/oauth2/token`, scopes: { 'devices:read': expect.any(String), 'devices:write': expect.any(String), 'delegations:admin': expect.any(String), 'access:evaluate': expect.any(String), 'policy:read': expect.any(String), 'policy:write': expect.any(String), 'keys:read': expect.any(String), 'keys:write': expect.any(String) } });
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

  it('documents the AuthZEN access evaluation API (client credentials, access:evaluate) and each route’s policy action', () => {
    const paths = document.paths as Record<string, Record<string, { tags: string[]; security: unknown; description?: string; requestBody?: unknown }>>;
    expect(paths['/access/v1/evaluation']?.post).toMatchObject({ tags: ['access'], security: [{ oauth2: ['access:evaluate'] }] });
    expect(paths['/access/v1/evaluations']?.post?.description).toMatch(/evaluations_semantic/);
    expect(paths['/admin/v1/devices/{id}/suspend']?.post?.description).toMatch(/`devices\.suspend` on the device of the path/);
    expect(paths['/admin/v1/devices']?.get?.description).toMatch(/tenant-wide role[\s\S]*403/);
    expect(paths['/v1/devices/{idOrSerial}/commands/lock']?.post?.description).toMatch(/`device\.command\.unlock`/);
    expect(paths['/v1/delegations']?.post?.description ?? '').not.toMatch(/\*\*Policy:\*\*/);
    const schemas = (document.components as { schemas: Record<string, { required?: string[] }> }).schemas;
    expect(schemas.AccessEvaluationRequest?.required).toEqual(expect.arrayContaining(['subject', 'action', 'resource']));
    expect(schemas.AccessEvaluationsResponse?.required).toEqual(['evaluations']);
  });

  it('documents the policy administration API: scopes, the raw or base64 bundle, the merge patch (issue #6)', () => {
    type Op = { tags: string[]; security: unknown; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, unknown> };
    const paths = document.paths as Record<string, Record<string, Op>>;
    expect(paths['/admin/v1/policy']?.get).toMatchObject({ tags: ['policy'], security: [{ oauth2: ['policy:read'] }] });
    const upload = paths['/admin/v1/policy/bundle']?.put;
    expect(upload?.security).toEqual([{ oauth2: ['policy:write'] }]);
    expect(upload?.requestBody?.content['application/gzip']?.schema).toMatchObject({ type: 'string', contentMediaType: 'application/gzip' });
    expect(upload?.requestBody?.content['application/octet-stream']?.schema).toMatchObject({ type: 'string' });
    expect(upload?.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/PolicyBundleUpload' });
    expect(Object.keys(upload?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '413', '415', '422']));
    expect(Object.keys(paths['/admin/v1/policy/data']?.patch?.requestBody?.content ?? {})).toEqual(['application/merge-patch+json', 'application/json']);
    expect(paths['/admin/v1/policy/reset']?.post?.security).toEqual([{ oauth2: ['policy:write'] }]);
    const schemas = (document.components as { schemas: Record<string, { required?: string[] }> }).schemas;
    expect(schemas.PolicyBundleUpload?.required).toEqual(['bundle']);
    expect(schemas.PolicyStatus?.required).toEqual(expect.arrayContaining(['policyVersion', 'bundle', 'data', 'lastRejected']));
  });

  it('documents the signing-key routes: scopes, policy actions, the optional reason, no private material', () => {
    type Op = { tags: string[]; security: unknown; description?: string; requestBody?: { required: boolean; content: Record<string, unknown> }; responses: Record<string, unknown> };
    const paths = document.paths as Record<string, Record<string, Op>>;
    const list = paths['/admin/v1/signing-keys']?.get;
    expect(list).toMatchObject({ tags: ['keys'], security: [{ oauth2: ['keys:read'] }] });
    expect(list?.description).toMatch(/`keys\.read` on the tenant/);
    const rotate = paths['/admin/v1/signing-keys/rotate']?.post;
    expect(rotate).toMatchObject({ tags: ['keys'], security: [{ oauth2: ['keys:write'] }], requestBody: { required: false } });
    expect(rotate?.description).toMatch(/`keys\.rotate` on the tenant/);
    expect(Object.keys(rotate?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '415', '422', '503']));
    const schemas = (document.components as { schemas: Record<string, { required?: string[]; properties?: Record<string, { items?: { properties?: Record<string, unknown> } }> }> }).schemas;
    expect(schemas.SigningKeyRotation?.required).toEqual(['kid', 'activatesAt']);
    expect(Object.keys(schemas.SigningKeys?.properties?.keys?.items?.properties ?? {}).sort()).toEqual(
      ['activatesAt', 'alg', 'createdAt', 'kid', 'publishUntil', 'published', 'retiredAt', 'rotationReason', 'status'].sort(),
    );
  });

  it('survives a schema zod cannot describe', async () => {
    const { z } = await import('zod');
    const odd = { ...OPERATIONS.getDevice, operationId: 'odd', path: 'admin/v1/odd', reply: { name: 'Odd', schema: z.object({ at: z.date(), n: z.bigint(), f: z.custom<string>(() => true) }), description: 'odd' } };
    const built = openApiDocument({ issuer: ISSUER, tenantName: 'x' }, [odd]);
    expect((built.components as { schemas: Record<string, unknown> }).schemas.Odd).toBeDefined();
  });
});

describe('the policy step of every route (issue #6)', () => {
  const operations = Object.values(OPERATIONS) as ApiOperation[];

  it('is declared by every route behind the token guard, and by no public one', () => {
    for (const operation of operations) expect({ operation: operation.operationId, declared: operation.policy !== null }).toEqual({ operation: operation.operationId, declared: operation.access !== null });
  });

  it('is a policy action for every device admin route and every command', () => {
    const governed = operations.filter((operation) => operation.path.startsWith('admin/v1/devices') || operation.path.includes('/commands/'));
    expect(governed.length).toBeGreaterThanOrEqual(15);
    for (const operation of governed) {
      expect({ operation: operation.operationId, rule: operation.policy !== null && isPolicyRule(operation.policy) }).toEqual({ operation: operation.operationId, rule: true });
    }
  });

  it('exempts only the routes whose owner checks are the services’ own, each saying why', () => {
    const exempt = operations.filter((operation) => operation.policy !== null && !isPolicyRule(operation.policy));
    expect(exempt.map((operation) => operation.operationId).sort()).toEqual(
      [
        'accessEvaluation',
        'accessEvaluations',
        'activatePolicyBundle',
        'adminRevokeDelegation',
        'claimDevice',
        'createDelegation',
        'declineDelegation',
        'getDelegation',
        'getOwnDevice',
        'getPolicyStatus',
        'listDelegations',
        'resetPolicy',
        'revokeDelegation',
        'updatePolicyData',
      ].sort(),
    );
    for (const operation of exempt) expect((operation.policy as { exempt: string }).exempt.length).toBeGreaterThan(20);
  });

  it('names the right actions: lifecycle, credentials, bulk, list, commands', () => {
    const rule = (name: keyof typeof OPERATIONS) => OPERATIONS[name].policy;
    expect(rule('suspendDevice')).toEqual({ action: 'devices.suspend', resource: 'device' });
    expect(rule('reactivateDevice')).toEqual({ action: 'devices.activate', resource: 'device' });
    expect(rule('revokeCredential')).toEqual({ action: 'devices.credentials', resource: 'device' });
    expect(rule('issueClaimCode')).toEqual({ action: 'devices.credentials', resource: 'device' });
    expect(rule('createDevice')).toEqual({ action: 'devices.create', resource: 'new-device' });
    expect(rule('bulkProvision')).toEqual({ action: 'devices.bulk', resource: 'tenant' });
    expect(rule('listDevices')).toEqual({ action: 'devices.read', resource: 'device-list' });
    expect(rule('lockCommand')).toEqual({ action: 'device.command.unlock', resource: 'device' });
    expect(rule('configureCommand')).toEqual({ action: 'device.command.configure', resource: 'device' });
    expect(rule('listSigningKeys')).toEqual({ action: 'keys.read', resource: 'tenant' });
    expect(rule('rotateSigningKey')).toEqual({ action: 'keys.rotate', resource: 'tenant' });
  });

  it('makes a protected route without a policy declaration a boot-time error', () => {
    const { policy: _policy, ...withoutPolicy } = OPERATIONS.suspendDevice;
    expect(() => ApiRoute(withoutPolicy as unknown as ApiOperation)).toThrow(/declares no policy/);
    expect(() => ApiRoute({ ...OPERATIONS.openApi, policy: { action: 'devices.read', resource: 'tenant' } } as ApiOperation)).toThrow(/public/);
    expect(() => ApiRoute({ ...OPERATIONS.bulkProvision, policy: { action: 'devices.read', resource: 'device' } } as ApiOperation)).toThrow(/:id or :idOrSerial/);
  });
});
