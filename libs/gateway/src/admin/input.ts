import { DeviceId } from '@latchkey/contracts';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HttpFailure, inputFailure, type InputIssue } from '../http/http-errors.js';

/** At most this many issues are listed in a problem: enough to fix a request, not a flood. */
const MAX_ISSUES = 50;

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** zod issues as the problem's `errors`: a JSON Pointer into the body and what is wrong there. */
export function bodyIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({ pointer: pointerOf([...prefix, ...issue.path]), detail: issue.message }));
}

/** One readable sentence for the problem's `detail`. */
export function summarize(issues: readonly InputIssue[], what: string): string {
  const first = issues[0];
  if (!first) return `${what} is not valid`;
  const where = first.parameter ?? (first.pointer ? first.pointer : 'the body');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more ${issues.length === 2 ? 'issue' : 'issues'})` : '';
  return `${what} is not valid: ${where}: ${first.detail}${more}`;
}

const JSON_TYPES = ['application/json'];

/** The media type of the request body, without parameters, lowercase; undefined without a body type. */
export function mediaTypeOf(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'];
  return header ? header.split(';')[0]?.trim().toLowerCase() : undefined;
}

export interface JsonBodyOptions {
  /** The media types accepted (default: `application/json` only), e.g. also `application/merge-patch+json`. */
  mediaTypes?: readonly string[];
  /** An absent body counts as `{}` (the optional `{ reason }` of a lifecycle action). */
  optional?: boolean;
}

/**
 * A JSON request body validated with the schema derived from the contract: no body or another media
 * type is refused before anything is asked, a body outside the schema is a 422 listing every issue.
 */
export function jsonBody<S extends z.ZodType>(schema: S, request: FastifyRequest, body: unknown, options: JsonBodyOptions = {}): z.output<S> {
  const mediaType = mediaTypeOf(request);
  let value = body;
  if (mediaType === undefined && (body === undefined || body === null)) {
    if (!options.optional) throw new HttpFailure(400, 'invalid_request', 'a JSON body is required (Content-Type: application/json)');
    value = {};
  } else if (!(options.mediaTypes ?? JSON_TYPES).includes(mediaType ?? '')) {
    throw new HttpFailure(415, 'invalid_request', `the body must be ${(options.mediaTypes ?? JSON_TYPES).join(' or ')}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = bodyIssues(parsed.error);
    throw inputFailure(422, summarize(issues, 'the body'), issues);
  }
  return parsed.data;
}

/** A path id that is not a UUID names nothing that exists: 404, as for an unknown id. */
export function idParam(value: string, what = 'device'): string {
  if (!DeviceId.safeParse(value).success) throw new HttpFailure(404, 'not_found', `no such ${what}`);
  return value;
}

/** The query string's name/value pairs in order (repeated names kept: each caller decides). */
export function queryEntries(request: FastifyRequest): Array<[string, string]> {
  const url = request.url;
  const at = url.indexOf('?');
  return at < 0 ? [] : [...new URLSearchParams(url.slice(at + 1))];
}
