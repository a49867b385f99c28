import type { FastifyInstance } from 'fastify';
import { HttpFailure } from './http-errors.js';

/**
 * Binary body types, accepted only by a route that asks for them (`rawBody: true` in its Fastify route
 * config, set by `@ApiRoute` for an operation whose body lists one of them: the policy bundle upload).
 * Such a route gets the body as a `Buffer`; every other route refuses them (415), as before.
 */
export const RAW_BODY_MEDIA_TYPES = ['application/gzip', 'application/octet-stream'] as const;

/** The route config member that opts a route in to `RAW_BODY_MEDIA_TYPES`. */
export interface RawBodyRouteConfig {
  rawBody?: boolean;
}

/**
 * Body types of the JSON APIs besides Fastify's own `application/json`: a JSON merge patch (RFC 7396),
 * parsed by the same prototype-poisoning-safe parser, CSV for bulk provisioning, kept as text for
 * `csv-parse`, and the raw bytes of the routes that take binary uploads. All are bounded by the route's
 * body limit.
 */
export function registerApiBodyParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, fastify.getDefaultJsonParser('error', 'error'));
  fastify.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  fastify.addContentTypeParser([...RAW_BODY_MEDIA_TYPES], { parseAs: 'buffer' }, (request, body, done) => {
    if ((request.routeOptions.config as RawBodyRouteConfig | undefined)?.rawBody === true) return done(null, body);
    done(new HttpFailure(415, 'invalid_request', 'unsupported content type'), undefined);
  });
}

/**
 * Lets a route ask for its own body limit through its Fastify route config (`@RouteConfig({ bodyLimit })`,
 * which Nest passes on), e.g. the bulk upload; every other route keeps the application's limit.
 * Must be installed before the routes are registered (Nest registers them at `init`).
 */
export function honourRouteBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof limit === 'number' && limit > 0) route.bodyLimit = limit;
  });
}
