import { applyDecorators, HttpCode, RequestMapping, RequestMethod } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { RequireAccess } from '../auth/token-guard.js';
import type { ApiOperation } from './operations.js';

/**
 * Declares a controller method as the route of an operation of the table (`operations.ts`): method,
 * path, success status, access requirement and, where the operation has one, its own body limit
 * (applied by the `onRoute` hook of `http-app.ts`).
 */
export function ApiRoute(operation: ApiOperation): MethodDecorator {
  return applyDecorators(
    RequestMapping({ path: operation.path, method: RequestMethod[operation.method] }),
    HttpCode(operation.status),
    ...(operation.access ? [RequireAccess(operation.access)] : []),
    ...(operation.bodyLimit ? [RouteConfig({ bodyLimit: operation.bodyLimit })] : []),
  );
}
