import { ContractError, type ErrorCode } from '@latchkey/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** OAuth endpoints answer errors as RFC 6749 §5.2 JSON; everything else as RFC 9457 problem+json. */
const OAUTH_PATH = /^\/t\/[^/]+\/oauth2\//;

const OAUTH_STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  // RFC 8628 §3.5: the device access token errors are 400 at the token endpoint.
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  access_denied: 400,
};

const PROBLEM_STATUS: Record<ErrorCode, number> = {
  ...(OAUTH_STATUS as Record<ErrorCode, number>),
  tenant_not_found: 404,
  not_found: 404,
  conflict: 409,
  validation_failed: 422,
  forbidden: 403,
  unavailable: 503,
  internal: 500,
  rate_limited: 429,
  unsupported_response_type: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Which internal service did not answer is none of the caller's business. */
const UNAVAILABLE = 'a service this request needs is temporarily unavailable';

/** One problem of a rejected input (RFC 9457 §3 "errors" extension): where, and what is wrong. */
export interface InputIssue {
  /** JSON Pointer (RFC 6901) into the body. */
  pointer?: string;
  /** The query or path parameter. */
  parameter?: string;
  detail: string;
}

export interface HttpFailureExtras {
  /** Headers the answer carries (e.g. the RFC 6750 `WWW-Authenticate` challenge). */
  headers?: Readonly<Record<string, string>>;
  /** Extension members of the problem document; the standard members always win. */
  problem?: Readonly<Record<string, unknown>>;
}

/**
 * An HTTP-level failure found by the gateway itself (before any service is asked, or about how it
 * answered). Its message is the gateway's own words, so it is shown even for a 5xx.
 */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extras: HttpFailureExtras = {},
  ) {
    super(message);
  }
}

/** A 400/422 about the request's input, listing every issue found. */
export function inputFailure(status: 400 | 422, message: string, errors: readonly InputIssue[]): HttpFailure {
  return new HttpFailure(status, status === 400 ? 'invalid_request' : 'validation_failed', message, { problem: { errors } });
}

/** Registry errors whose `details` help the caller (conflict: `{ from, action }`) and carry nothing secret. */
const DETAILED_CODES: ReadonlySet<ErrorCode> = new Set(['conflict', 'validation_failed']);

/** RFC 6749 §5.2: error_description may only hold %x20-21 / %x23-5B / %x5D-7E; other characters become `?`. */
function oauthDescription(message: string): string {
  return message.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const classified = classify(error);
  const { status, code } = classified;
  // Messages can echo request input (e.g. an unsupported grant_type); keep them within the RFC charset.
  const message = oauthDescription(classified.message);
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  const path = request.url.split('?')[0] ?? '';
  if (OAUTH_PATH.test(path) && status !== 404) {
    if (status === 503) return reply.code(503).header('retry-after', '1').send({ error: 'temporarily_unavailable', error_description: UNAVAILABLE });
    if (status === 429) {
      // RFC 6749 §5.2 has no rate-limit error; temporarily_unavailable (§4.1.2.1) with Retry-After is the usual answer.
      const retryAfter = error instanceof HttpFailure ? error.extras.headers?.['retry-after'] : undefined;
      return reply.code(429).header('retry-after', retryAfter ?? '1').send({ error: 'temporarily_unavailable', error_description: message });
    }
    if (status >= 500) return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
    const oauthCode = OAUTH_STATUS[code] !== undefined ? code : 'invalid_request';
    if (oauthCode === 'invalid_client') reply.header('www-authenticate', 'Basic realm="latchkey", charset="UTF-8"');
    return reply.code(oauthCode === 'invalid_client' ? 401 : status === 413 ? 413 : 400).send({ error: oauthCode, error_description: message });
  }
  if (status === 503) reply.header('retry-after', '1');
  const own = error instanceof HttpFailure;
  for (const [name, value] of Object.entries(own ? (error.extras.headers ?? {}) : {})) reply.header(name, value);
  const detail = own || status < 500 ? message : status === 503 ? UNAVAILABLE : 'internal error';
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ ...extensionsOf(error), type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail });
}

function extensionsOf(error: unknown): Record<string, unknown> {
  if (error instanceof HttpFailure) return { ...error.extras.problem };
  if (error instanceof ContractError && error.details && DETAILED_CODES.has(error.code)) return { details: error.details };
  return {};
}

function classify(error: unknown): { status: number; code: ErrorCode; message: string } {
  if (error instanceof HttpFailure) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof ContractError) return { status: PROBLEM_STATUS[error.code], code: error.code, message: error.message };
  const e = error as { statusCode?: number; code?: string; status?: number; getStatus?: () => number } | null;
  // Fastify's own request errors (body too large, bad content type, malformed body) and Nest's 404s.
  // A path parameter longer than the router accepts names nothing that exists (ids are far shorter).
  if (e?.code === 'FST_ERR_MAX_PARAM_LENGTH') return { status: 404, code: 'not_found', message: 'no such resource' };
  if (e?.code === 'FST_ERR_BAD_URL') return { status: 400, code: 'invalid_request', message: 'malformed URL' };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, code: 'invalid_request', message: 'request body too large' };
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, code: 'invalid_request', message: 'unsupported content type' };
  if (e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, code: 'invalid_request', message: 'the body is not valid JSON' };
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, code: 'invalid_request', message: 'the body is declared as JSON but empty' };
  const status = typeof e?.getStatus === 'function' ? e.getStatus() : (e?.statusCode ?? e?.status);
  if (status === 413) return { status, code: 'invalid_request', message: 'request body too large' };
  if (status === 415) return { status, code: 'invalid_request', message: 'unsupported content type' };
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: status === 404 ? 'not_found' : 'invalid_request', message: status === 404 ? 'no such resource' : 'malformed request' };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}
