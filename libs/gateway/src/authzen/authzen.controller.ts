import { Body, Controller, Inject, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiRoute } from '../admin/api-route.js';
import { bodyIssues, mediaTypeOf, summarize } from '../admin/input.js';
import { OPERATIONS } from '../admin/operations.js';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { HttpFailure, inputFailure } from '../http/http-errors.js';
import { AuthzenEvaluator } from './authzen-evaluator.js';
import { EvaluationRequest, EvaluationsRequest } from './schemas.js';

/** AuthZEN's HTTPS binding: a JSON body, and a malformed one is a 400 (not the admin API's 422). */
function authzenBody<S extends z.ZodType>(schema: S, request: FastifyRequest, body: unknown): z.output<S> {
  const mediaType = mediaTypeOf(request);
  if (mediaType === undefined) throw new HttpFailure(400, 'invalid_request', 'a JSON body is required (Content-Type: application/json)');
  if (mediaType !== 'application/json') throw new HttpFailure(415, 'invalid_request', 'the body must be application/json');
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = bodyIssues(parsed.error);
    throw inputFailure(400, summarize(issues, 'the request'), issues);
  }
  return parsed.data;
}

/** A request identifier the caller sent comes back on the answer (AuthZEN "Request Identification"). */
const REQUEST_ID = /^[\x21-\x7E]{1,200}$/;

function echoRequestId(request: FastifyRequest, reply: FastifyReply): void {
  const id = request.headers['x-request-id'];
  if (typeof id === 'string' && REQUEST_ID.test(id)) reply.header('x-request-id', id);
}

/**
 * The OpenID AuthZEN Authorization API 1.0 of the tenant's policy decision point
 * (`/t/{t}/access/v1/evaluation`, `/evaluations`): what an external resource server (a policy
 * enforcement point) asks. The caller is an app with `access:evaluate` (client credentials).
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class AuthzenController {
  constructor(@Inject(AuthzenEvaluator) private readonly evaluator: AuthzenEvaluator) {}

  @ApiRoute(OPERATIONS.accessEvaluation)
  evaluation(@CurrentPrincipal() { tenant }: Principal, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    echoRequestId(request, reply);
    return this.evaluator.evaluate(tenant, authzenBody(EvaluationRequest, request, body));
  }

  @ApiRoute(OPERATIONS.accessEvaluations)
  evaluations(@CurrentPrincipal() { tenant }: Principal, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    echoRequestId(request, reply);
    return this.evaluator.evaluateAll(tenant, authzenBody(EvaluationsRequest, request, body));
  }
}
