import { z } from 'zod';

/**
 * A request/reply message: its NATS subject and the zod schemas both sides validate with.
 * Subjects follow `latchkey.<service>.v1.<operation>`; a breaking change gets a new `v2` subject.
 */
export interface RequestContract<
  Subject extends string = string,
  Req extends z.ZodType = z.ZodType,
  Rep extends z.ZodType = z.ZodType,
> {
  readonly kind: 'request';
  readonly subject: Subject;
  readonly request: Req;
  readonly reply: Rep;
}

/** A fact published by the owning service: `latchkey.events.<service>.<event>`. */
export interface EventContract<Subject extends string = string, Payload extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  readonly subject: Subject;
  readonly payload: Payload;
}

export type RequestOf<C extends RequestContract> = z.input<C['request']>;
export type ParsedRequestOf<C extends RequestContract> = z.output<C['request']>;
export type ReplyOf<C extends RequestContract> = z.output<C['reply']>;
export type PayloadOf<C extends EventContract> = z.output<C['payload']>;

const SUBJECT = /^latchkey\.[a-z-]+\.v\d+\.[a-z-]+$/;
const EVENT_SUBJECT = /^latchkey\.events\.[a-z-]+\.[a-z_.-]+$/;

export function defineRequest<S extends string, Req extends z.ZodType, Rep extends z.ZodType>(def: {
  subject: S;
  request: Req;
  reply: Rep;
}): RequestContract<S, Req, Rep> {
  if (!SUBJECT.test(def.subject)) throw new Error(`malformed request subject: ${def.subject}`);
  return { kind: 'request', ...def };
}

export function defineEvent<S extends string, P extends z.ZodType>(def: {
  subject: S;
  payload: P;
}): EventContract<S, P> {
  if (!EVENT_SUBJECT.test(def.subject)) throw new Error(`malformed event subject: ${def.subject}`);
  return { kind: 'event', ...def };
}
