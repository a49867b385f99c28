import type { FastifyInstance } from 'fastify';

/**
 * Body types of the JSON APIs besides Fastify's own `application/json`: a JSON merge patch (RFC 7396),
 * parsed by the same prototype-poisoning-safe parser, and CSV for bulk provisioning, kept as text for
 * `csv-parse`. Both are bounded by the route's body limit.
 */
export function registerApiBodyParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, fastify.getDefaultJsonParser('error', 'error'));
  fastify.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
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
