import type { FastifyInstance } from 'fastify';
import { HttpFailure } from './http-errors.js';

/** A parsed `application/x-www-form-urlencoded` body. */
export interface FormBody {
  kind: 'form';
  params: Record<string, string>;
  /** RFC 6749 §3.2: request parameters MUST NOT be included more than once. */
  repeated: string[];
}

export function isFormBody(body: unknown): body is FormBody {
  return typeof body === 'object' && body !== null && (body as FormBody).kind === 'form';
}

export function registerFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    const repeated: string[] = [];
    try {
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (name in params) repeated.push(name);
        else params[name] = value;
      }
    } catch {
      done(new HttpFailure(400, 'invalid_request', 'malformed form body'), undefined);
      return;
    }
    done(null, { kind: 'form', params, repeated } satisfies FormBody);
  });
}

/** The form parameters of an OAuth request, or an `invalid_request` describing what is wrong. */
export function formParams(body: unknown): Record<string, string> {
  if (!isFormBody(body)) throw new HttpFailure(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  if (body.repeated.length) throw new HttpFailure(400, 'invalid_request', `parameter repeated: ${body.repeated.join(', ')}`);
  // Empty values are treated as omitted (RFC 6749 §3.1).
  return Object.fromEntries(Object.entries(body.params).filter(([, value]) => value !== ''));
}
