import { applyDecorators, HttpCode, RequestMapping, RequestMethod } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { RequireAccess, RequirePolicy } from '../auth/token-guard.js';
import { RAW_BODY_MEDIA_TYPES } from '../http/api-bodies.js';
import { isPolicyRule } from '../policy/route-policy.js';
import type { ApiOperation } from './operations.js';

/**
 * A protected operation without a policy declaration, or a public one with one, is a programming
 * error: thrown when the controller is defined, i.e. when the gateway boots.
 */
export function assertPolicyDeclared(operation: ApiOperation): void {
  if (operation.access && !operation.policy) throw new Error(`operation ${operation.operationId} is behind the token guard but declares no policy (a rule, or why it is exempt)`);
  if (!operation.access && operation.policy) throw new Error(`operation ${operation.operationId} is public: a policy would never be asked`);
  if (operation.policy && isPolicyRule(operation.policy) && operation.policy.resource === 'device' && !/:(id|idOrSerial)(\/|$)/.test(operation.path)) {
    throw new Error(`operation ${operation.operationId} decides on the path's device but has no :id or :idOrSerial parameter`);
  }
}

/** Whether the operation takes a binary body (`RAW_BODY_MEDIA_TYPES`): only such a route may receive one. */
export function takesRawBody(operation: ApiOperation): boolean {
  return operation.body?.mediaTypes.some((type) => (RAW_BODY_MEDIA_TYPES as readonly string[]).includes(type)) ?? false;
}

/**
 * Declares a controller method as the route of an operation of the table (`operations.ts`): method,
 * path, success status, access requirement, policy step and, where the operation has them, its own
 * body limit (applied by the `onRoute` hook of `http-app.ts`) and its binary body types (accepted by
 * the raw body parser of `api-bodies.ts` for this route only).
 */
export function ApiRoute(operation: ApiOperation): MethodDecorator {
  assertPolicyDeclared(operation);
  const { body, policy } = operation;
  const rawBody = takesRawBody(operation);
  return applyDecorators(
    RequestMapping({ path: operation.path, method: RequestMethod[operation.method] }),
    HttpCode(operation.status),
    ...(operation.access ? [RequireAccess(operation.access)] : []),
    ...(policy
      ? [
          RequirePolicy({
            policy,
            // Changes and commands record who acted (the registry's audit trail); reads record nothing.
            recordsActor: operation.method !== 'GET',
            ...(body && body.mediaTypes.every((type) => type.endsWith('json')) ? { body: { schema: body.schema, mediaTypes: body.mediaTypes, required: body.required } } : {}),
          }),
        ]
      : []),
    ...(operation.bodyLimit || rawBody ? [RouteConfig({ ...(operation.bodyLimit ? { bodyLimit: operation.bodyLimit } : {}), ...(rawBody ? { rawBody: true } : {}) })] : []),
  );
}
