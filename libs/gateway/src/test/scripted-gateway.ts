// Test support (excluded from the library build): the gateway's real HTTP app, guard and controllers,
// with the other services replaced by scripted answers at the contract boundary.
import type { TenantsFile } from '@latchkey/config';
import { ContractError, type RequestContract } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { type DynamicModule, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { expect } from '@jest/globals';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { GatewayModule } from '../gateway.module.js';
import { createHttpApp } from '../http-app.js';

export type ScriptedHandler = (request: Record<string, unknown>) => unknown;

/** The guard's own questions (the token, who the subject is, the policy), for specs that record the route's calls apart. */
export const GUARD_SUBJECTS: ReadonlySet<string> = new Set(['latchkey.token.v1.verify-access-token', 'latchkey.identity.v1.get-user', 'latchkey.policy.v1.decide']);
export const TOKEN_CHECKS: ReadonlySet<string> = new Set(['latchkey.token.v1.verify-access-token']);

/**
 * A ContractClient stand-in: each request is parsed with its contract's schema (the gateway must send
 * valid ones), recorded (except `unrecorded` subjects) and answered by the scripted handler, or
 * `unavailable` when nothing is scripted.
 */
export class ScriptedServices {
  calls: Array<{ subject: string; request: Record<string, unknown>; timeoutMs?: number }> = [];
  /** The policy inputs the guard sent (`policy.v1.decide`), in order. */
  decisions: Array<Record<string, unknown>> = [];
  /** The user ids the guard looked up (`identity.v1.get-user`). */
  userLookups: string[] = [];
  handlers = new Map<string, ScriptedHandler>();

  constructor(private readonly unrecorded: ReadonlySet<string>) {}

  reset(handlers: Iterable<[string, ScriptedHandler]>): void {
    this.calls = [];
    this.decisions = [];
    this.userLookups = [];
    this.handlers = new Map(handlers);
  }

  async send(contract: RequestContract, request: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const parsed = contract.request.parse(request) as Record<string, unknown>;
    if (contract.subject === 'latchkey.policy.v1.decide') this.decisions.push(parsed);
    if (contract.subject === 'latchkey.identity.v1.get-user') this.userLookups.push(parsed.userId as string);
    if (!this.unrecorded.has(contract.subject)) this.calls.push({ subject: contract.subject, request: parsed, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    const handler = this.handlers.get(contract.subject);
    if (!handler) throw new ContractError('unavailable', `nothing scripted for ${contract.subject}`);
    return handler(parsed);
  }

  subjects(): string[] {
    return this.calls.map((call) => call.subject);
  }
}

/** The gateway's controllers and providers, with `services` instead of the messaging module. */
export async function startScriptedGateway(services: ScriptedServices, tenants: TenantsFile, publicUrl: string): Promise<{ app: NestFastifyApplication; fastify: FastifyInstance }> {
  const gateway = GatewayModule.forRoot({ tenants, publicUrl, messaging: undefined as never });
  @Module({})
  class ScriptedGatewayModule {}
  const module: DynamicModule = { module: ScriptedGatewayModule, controllers: gateway.controllers ?? [], providers: [...(gateway.providers ?? []), { provide: ContractClient, useValue: services }] };
  const app = await createHttpApp(module, []);
  await app.init();
  return { app, fastify: app.getHttpAdapter().getInstance() };
}

export interface ApiCallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON (`content-type` from `type`, else application/json). */
  json?: unknown;
  /** A raw body (with `type` as its content type). */
  payload?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
  /** Default `demo`. */
  tenant?: string;
}

/**
 * `call(method, path, options)` against `/t/{tenant}{path}` of a scripted gateway, asserting what must
 * hold for every answer: no 500 and no stack trace.
 */
export function apiCaller(fastify: FastifyInstance): (method: InjectOptions['method'], path: string, options?: ApiCallOptions) => Promise<LightMyRequestResponse> {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload = options.payload;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] = options.type ?? 'application/json';
    } else if (options.type) headers['content-type'] = options.type;
    const response = await fastify.inject({ method, url: `/t/${options.tenant ?? 'demo'}${path}`, headers, ...(payload !== undefined ? { payload } : {}) });
    expect(response.statusCode).not.toBe(500);
    expect(response.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    return response;
  };
}

/** The RFC 9457 body of an answer that must have `status`. */
export function expectProblem(response: LightMyRequestResponse, status: number): Record<string, unknown> {
  expect({ status: response.statusCode, body: response.body }).toEqual({ status, body: expect.any(String) });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({ type: 'about:blank', status, detail: expect.any(String) });
  return body;
}
