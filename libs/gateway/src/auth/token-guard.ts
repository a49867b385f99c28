import type { Actor, GrantView } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpFailure } from '../http/http-errors.js';
import { type RouteBody, RoutePolicyGate } from '../policy/route-policy-gate.js';
import { isPolicyRule, type RoutePolicy } from '../policy/route-policy.js';
import { GatewayTenants } from '../tenants.js';
import { BEARER_STATUS, bearerChallenge, type ChallengeError, parseBearerHeader, scopesOf, verifyBearer } from './bearer.js';
import { checkDelegation } from './delegation-check.js';
import { actorOf, isDelegated, type Principal } from './principal.js';

/** What a bearer-protected route asks of the token: every scope listed, and optionally who may call. */
export interface AccessRequirement {
  scopes: readonly string[];
  /** Only these kinds of actor (e.g. only a person may claim a device); any when absent. */
  actors?: readonly Actor['type'][];
  /**
   * Delegated tokens (RFC 8693 `act` / `gid`: Bianca acting for Adam). Refused unless a route says
   * `accept`: a new route is safe by default, and the admin API, the claim API and the delegations API
   * itself (nobody creates grants "as Adam" with a token Adam shared) never see one.
   */
  delegated?: 'refuse' | 'accept';
}

const REQUIREMENT = Symbol('latchkey.gateway.access-requirement');
const POLICY = Symbol('latchkey.gateway.route-policy');

/** Declares what a route needs of the token; read by `TokenGuard`. */
export const RequireAccess = (requirement: AccessRequirement) => SetMetadata(REQUIREMENT, requirement);

/** The policy step of a route: its rule (or why it has none), its JSON body and whether it records its actor. */
export interface RoutePolicyDeclaration {
  policy: RoutePolicy;
  /** Checked before the policy step looks the device up, so that a bad body is a 4xx without a lookup. */
  body?: RouteBody;
  /** The route records who acted (a change, a command): it can honour an `audit` obligation. */
  recordsActor: boolean;
}

/** Declares a route's policy step; read by `TokenGuard`. A route behind the guard without one is refused (fail closed). */
export const RequirePolicy = (declaration: RoutePolicyDeclaration) => SetMetadata(POLICY, declaration);

/** The principal of each request the guard let through; gone with the request. */
const PRINCIPALS = new WeakMap<object, Principal>();

export function principalOf(request: FastifyRequest): Principal {
  const principal = PRINCIPALS.get(request);
  // Only a route behind TokenGuard may ask: anything else is a programming error, not a caller's.
  if (!principal) throw new Error('no principal: the route is not behind TokenGuard');
  return principal;
}

/** The verified caller, as a controller parameter. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => principalOf(context.switchToHttp().getRequest<FastifyRequest>()));

function bearerFailure(realm: string, message: string, error?: ChallengeError, problem?: Record<string, unknown>): HttpFailure {
  const status = error ? BEARER_STATUS[error.code] : 401;
  return new HttpFailure(status, status === 403 ? 'forbidden' : 'invalid_request', message, { headers: { 'www-authenticate': bearerChallenge(realm, error) }, ...(problem ? { problem } : {}) });
}

/** The words of a refused delegation, in the challenge and the problem alike (the reason goes in `reason`). */
export const DELEGATION_REFUSED = 'the delegation no longer allows this';

export interface BearerRequest {
  tenant: string;
  /** The tenant's issuer: the realm of the challenge. */
  realm: string;
  authorization: string | undefined;
  requirement: AccessRequirement;
}

/**
 * RFC 6750 for the platform's APIs: the `Authorization: Bearer` header (no query or form tokens: the
 * APIs are JSON), verified by the token service (revocation honoured at once), for this tenant only,
 * with every required scope. A delegated token is refused unless the route accepts them, and where it
 * does, its grant is checked again now (`CheckGrant`). Failures are problem+json with the
 * `WWW-Authenticate` challenge.
 */
export async function authorizeBearer(messaging: ContractClient, input: BearerRequest): Promise<Principal> {
  const { tenant, realm, requirement } = input;
  const header = parseBearerHeader(input.authorization);
  if (header.kind === 'absent') throw bearerFailure(realm, 'an access token is required: send it as Authorization: Bearer <token>');
  if (header.kind === 'malformed') throw bearerFailure(realm, 'malformed Authorization header', { code: 'invalid_request', description: 'malformed Authorization header' });
  const verified = await verifyBearer(messaging, tenant, header.token);
  // The token service verifies against this tenant's issuer and keys; the claim check is a second lock.
  if (!verified.active || verified.claims.tenant !== tenant) {
    const description = verified.active ? 'the access token is invalid' : verified.description;
    throw bearerFailure(realm, description, { code: 'invalid_token', description });
  }
  const { claims } = verified;
  const delegated = isDelegated(claims);
  // Before anything else is asked: a route that refuses delegated tokens needs no grant lookup.
  if (delegated && requirement.delegated !== 'accept') {
    throw new HttpFailure(403, 'forbidden', 'a delegated token (one that acts for another person) may not do this: use your own access token');
  }
  let scopes = scopesOf(claims);
  let actor = actorOf(claims);
  let grant: GrantView | null = null;
  if (delegated) {
    const check = await checkDelegation(messaging, tenant, claims);
    if (!check.usable) throw bearerFailure(realm, DELEGATION_REFUSED, { code: 'invalid_token', description: DELEGATION_REFUSED }, { reason: check.reason });
    actor = check.actor;
    grant = check.grant;
    // Never more than the grant allows now, whatever the token says.
    scopes = scopes.filter((scope) => check.grantScopes.includes(scope));
  }
  const missing = requirement.scopes.filter((scope) => !scopes.includes(scope));
  if (missing.length) {
    const description = `the access token lacks the scope ${missing.join(' ')}`;
    throw bearerFailure(realm, description, { code: 'insufficient_scope', description, scope: requirement.scopes.join(' ') });
  }
  if (requirement.actors && !requirement.actors.includes(actor.type)) {
    throw new HttpFailure(403, 'forbidden', `only a token of a ${requirement.actors.join(' or ')} may do this; this one is a ${actor.type} token`);
  }
  return delegated
    ? { tenant, claims, scopes, actor, onBehalfOf: claims.sub, act: claims.act ?? null, gid: claims.gid ?? null, grant }
    : { tenant, claims, scopes, actor, onBehalfOf: null, act: null, gid: null, grant: null };
}

/**
 * The shared token guard of the bearer-protected APIs (ADR 0018): the token and its scopes
 * (`@RequireAccess`), then the policy step (`@RequirePolicy`, `RoutePolicyGate`): the decision point
 * is asked about the route's action on its resource. Both are declared by `@ApiRoute` from the
 * operations table; a route behind the guard without either is refused (fail closed).
 */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(RoutePolicyGate) private readonly policyGate: RoutePolicyGate,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const requirement = this.reflector.getAllAndOverride<AccessRequirement | undefined>(REQUIREMENT, targets);
    const declaration = this.reflector.getAllAndOverride<RoutePolicyDeclaration | undefined>(POLICY, targets);
    if (!requirement) throw new Error(`${context.getClass().name}.${context.getHandler().name} has no access requirement`);
    if (!declaration) throw new Error(`${context.getClass().name}.${context.getHandler().name} declares no policy step (a rule, or why it is exempt)`);
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    // Answers of these APIs carry device data and one-time secrets: never cached, errors included.
    http.getResponse<FastifyReply>().header('cache-control', 'no-store').header('pragma', 'no-cache');
    const tenant = (request.params as Record<string, string | undefined>).tenant ?? '';
    const realm = this.tenants.issuer(tenant);
    const principal = await authorizeBearer(this.messaging, { tenant, realm, authorization: request.headers.authorization, requirement });
    PRINCIPALS.set(request, principal);
    if (isPolicyRule(declaration.policy)) await this.policyGate.enforce(request, principal, declaration.policy, declaration.body, declaration.recordsActor);
    return true;
  }
}
