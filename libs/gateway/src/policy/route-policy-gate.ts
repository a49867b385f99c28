import { ActorClaim, type ActorClaimValue, type DecisionContext, type DecisionInput, type DecisionResource, type DecisionResult, type DeviceView, GetDevice, type ReplyOf } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CreateDeviceBody } from '../admin/schemas.js';
import { idParam, jsonBody, queryEntries } from '../admin/input.js';
import { listDevicesRequest } from '../admin/list-query.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../gateway.options.js';
import { HttpFailure } from '../http/http-errors.js';
import { resolveDevice } from '../resources/send-command.js';
import { contextIp, decisionGrant, deviceAttributes, newDeviceAttributes } from './decision-input.js';
import { PolicyDecider } from './policy-decider.js';
import { PolicySubjects } from './policy-subjects.js';
import type { PolicyRule } from './route-policy.js';

/** The JSON body a route takes, checked before the policy step looks anything up (a bad body is a 4xx, not a lookup). */
export interface RouteBody {
  schema: z.ZodType;
  mediaTypes: readonly string[];
  required: boolean;
}

/** What the policy step found and decided for a request; the controller reuses it instead of asking again. */
export interface RouteDecision {
  input: DecisionInput;
  result: DecisionResult;
  /** The device of the path, as the registry answered (a `:id` route: with its credentials). */
  device: DeviceView | null;
  deviceWithCredentials: ReplyOf<typeof GetDevice> | null;
  /**
   * `obligations.audit.act`: the actor chain (RFC 8693 `act`) the policy requires the route to record
   * with the action; null when the policy asks for none.
   */
  auditAct: ActorClaimValue | null;
}

const DECISIONS = new WeakMap<object, RouteDecision>();

/** The policy step's outcome for a request; only a route with a policy rule may ask. */
export function routeDecisionOf(request: FastifyRequest): RouteDecision {
  const decision = DECISIONS.get(request);
  if (!decision) throw new Error('no policy decision: the route has no policy rule or is not behind TokenGuard');
  return decision;
}

/** The policy step's outcome, as a controller parameter. */
export const CurrentDecision = createParamDecorator((_data: unknown, context: ExecutionContext): RouteDecision => routeDecisionOf(context.switchToHttp().getRequest<FastifyRequest>()));

/** Path parameters that name something by UUID (`:id`, `:credentialId`…): anything else names nothing (404). */
const UUID_PARAMETER = /^(id|[A-Za-z]+Id)$/;

/** The words of a denial: the action and the policy's first reason; every reason is in `reasons`. */
export function denialMessage(action: string, reasons: readonly string[]): string {
  return `the policy does not allow ${action} here${reasons[0] ? `: ${reasons[0]}` : ''}`;
}

/**
 * The policy step of the token guard (ARCHITECTURE flow 5, ADR 0018): after the token and its scopes,
 * build `{ subject, action, resource, context }` for the route's rule, ask the decision point, and
 * refuse with a 403 problem carrying the policy's reasons. The order: path ids and the body are
 * checked first (404 / 4xx without asking anyone), then the device is looked up (unknown: 404), then
 * the policy decides. A decision point that cannot be asked is a 503 (`PolicyDecider`).
 */
@Injectable()
export class RoutePolicyGate {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(PolicyDecider) private readonly decider: PolicyDecider,
    @Inject(PolicySubjects) private readonly subjects: PolicySubjects,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  /**
   * Decides for a request; throws the HTTP failure of a refusal. `recordsActor`: the route records who
   * acted (a change or a command), so it can fulfil an `audit` obligation; a read cannot.
   */
  async enforce(request: FastifyRequest, principal: Principal, rule: PolicyRule, body: RouteBody | undefined, recordsActor: boolean): Promise<RouteDecision> {
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    for (const [name, value] of Object.entries(params)) {
      if (UUID_PARAMETER.test(name) && value !== undefined) idParam(value, name === 'id' ? 'device' : name.replace(/Id$/, ''));
    }
    const validatedBody = body && (rule.resource === 'device' || rule.resource === 'new-device') ? jsonBody(body.schema, request, request.body, { mediaTypes: body.mediaTypes, optional: !body.required }) : undefined;
    const { tenant } = principal;
    const target = await this.resourceOf(rule, request, tenant, validatedBody);
    const subject = await this.subjects.ofPrincipal(principal);
    const input: DecisionInput = { subject, action: { name: rule.action }, resource: target.resource, context: this.contextOf(request, principal) };
    const result = await this.decider.decide(tenant, input);
    if (!result.allow) throw new HttpFailure(403, 'forbidden', denialMessage(rule.action, result.reasons), { problem: { reasons: result.reasons } });
    const decision: RouteDecision = { input, result, device: target.device, deviceWithCredentials: target.deviceWithCredentials, auditAct: this.obligationsOf(result, recordsActor) };
    DECISIONS.set(request, decision);
    return decision;
  }

  private async resourceOf(rule: PolicyRule, request: FastifyRequest, tenant: string, body: unknown): Promise<{ resource: DecisionResource; device: DeviceView | null; deviceWithCredentials: ReplyOf<typeof GetDevice> | null }> {
    const none = { device: null, deviceWithCredentials: null };
    switch (rule.resource) {
      case 'tenant':
        return { resource: { type: 'tenant', id: tenant, attributes: { tenant } }, ...none };
      case 'device-list': {
        // The filters a list is narrowed by are attributes every listed device has: an owner's own
        // devices, a site's. Without them the resource is the whole tenant's devices.
        const filters = listDevicesRequest(tenant, queryEntries(request));
        const site = filters.attributes?.site;
        const attributes = {
          ...(filters.ownerId !== undefined && filters.ownerId !== 'none' ? { ownerId: filters.ownerId } : {}),
          ...(typeof site === 'string' ? { site } : {}),
        };
        return { resource: { type: 'device', id: '*', ...(Object.keys(attributes).length ? { attributes: { ...attributes, tenant } } : {}) }, ...none };
      }
      case 'new-device': {
        const device = CreateDeviceBody.parse(body);
        return { resource: { type: 'device', id: device.serial, attributes: newDeviceAttributes(tenant, device) }, ...none };
      }
      case 'device': {
        const params = (request.params ?? {}) as Record<string, string | undefined>;
        if (params.id !== undefined) {
          const reply = await this.messaging.send(GetDevice, { tenant, deviceId: idParam(params.id) });
          return { resource: deviceResource(reply.device), device: reply.device, deviceWithCredentials: reply };
        }
        if (params.idOrSerial !== undefined) {
          const device = await resolveDevice(this.messaging, tenant, params.idOrSerial);
          return { resource: deviceResource(device), device, deviceWithCredentials: null };
        }
        throw new Error(`a route with resource 'device' needs an :id or :idOrSerial path parameter`);
      }
    }
  }

  /**
   * `{ ip }`, and for a delegated token its grant (as the delegation service checked it for this
   * request) and the time, pinned by the gateway's clock: the grant was checked and is decided at the
   * same instant (never cached).
   */
  private contextOf(request: FastifyRequest, principal: Principal): DecisionContext {
    const ip = contextIp(request.ip);
    return {
      ...(ip ? { ip } : {}),
      ...(principal.grant ? { grant: decisionGrant(principal.grant), time: new Date((this.options.clock ?? Date.now)()).toISOString() } : {}),
    };
  }

  /**
   * Obligations the route must fulfil with the allow. `audit` (record who actually acted, `act`) is
   * fulfilled by the routes that record their actor; any other obligation, or `audit` on a route that
   * records nothing, is refused: an allow whose conditions cannot be met is not an allow.
   */
  private obligationsOf(result: DecisionResult, recordsActor: boolean): ActorClaimValue | null {
    const obligations = result.obligations ?? {};
    const unfulfillable = Object.keys(obligations).filter((name) => !(name === 'audit' && recordsActor));
    if (unfulfillable.length) {
      throw new HttpFailure(403, 'forbidden', 'the policy attaches conditions this route cannot fulfil', { problem: { reasons: unfulfillable.map((name) => `obligation_unfulfillable: ${name}`) } });
    }
    const act = (obligations.audit as { act?: unknown } | undefined)?.act;
    if (act === undefined) return null;
    const parsed = ActorClaim.safeParse(act);
    if (!parsed.success) throw new HttpFailure(403, 'forbidden', 'the policy attaches conditions this route cannot fulfil', { problem: { reasons: ['obligation_unfulfillable: audit'] } });
    return parsed.data;
  }
}

function deviceResource(device: DeviceView): DecisionResource {
  return { type: 'device', id: device.id, attributes: deviceAttributes(device) };
}

