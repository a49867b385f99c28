import type { FastifyReply } from 'fastify';
import { type Html, ownUrl, render } from './html.js';
import { type PageHeaderOptions, pageHeaders, REDIRECT_HEADERS } from './layout.js';

export interface SendPageOptions extends PageHeaderOptions {
  status?: number;
}

/** Sends a page with its security headers (CSP with the style hash, no-store, DENY framing, ...). */
export function sendPage(reply: FastifyReply, page: Html, options: SendPageOptions = {}): FastifyReply {
  return reply
    .code(options.status ?? 200)
    .headers(pageHeaders(options))
    .send(render(page));
}

/**
 * Ends a form submission with a 303 (POST → GET). `location` is a validated redirect URI of the
 * client, or with `own: true` a path of this gateway (checked by `ownUrl`).
 */
export function redirectAfterPost(reply: FastifyReply, location: string, options: { own?: boolean } = {}): FastifyReply {
  return reply
    .code(303)
    .headers({ ...REDIRECT_HEADERS })
    .header('location', options.own ? ownUrl(location) : location)
    .send();
}

/** A 303 from a GET to another page of this gateway (an old address that moved); `path` is checked by `ownUrl`. */
export function redirectToOwnPage(reply: FastifyReply, path: string): FastifyReply {
  return redirectAfterPost(reply, path, { own: true });
}
