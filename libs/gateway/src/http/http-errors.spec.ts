import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpFailure, inputFailure, sendError } from './http-errors.js';

function fakeReply() {
  const state: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  const reply = {
    code(status: number) {
      state.status = status;
      return reply;
    },
    header(name: string, value: string) {
      state.headers[name] = value;
      return reply;
    },
    type(value: string) {
      state.headers['content-type'] = value;
      return reply;
    },
    send(body: unknown) {
      state.body = body;
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, state };
}

const request = (url: string) => ({ url }) as FastifyRequest;

describe('sendError', () => {
  it.each(['authorization_pending', 'slow_down', 'expired_token', 'access_denied'] as const)('answers the RFC 8628 §3.5 error %s as 400 on the token endpoint', (code) => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/oauth2/token'), reply, new ContractError(code, 'not yet'));
    expect(state.status).toBe(400);
    expect(state.body).toEqual({ error: code, error_description: 'not yet' });
    expect(state.headers['cache-control']).toBe('no-store');
    expect(state.headers['www-authenticate']).toBeUndefined();
  });

  it('keeps invalid_client a 401 with a challenge', () => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/oauth2/device_authorization'), reply, new ContractError('invalid_client', 'client authentication failed'));
    expect(state.status).toBe(401);
    expect(state.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('gives the same codes a 400 problem outside the OAuth endpoints', () => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/other'), reply, new ContractError('slow_down', 'slow'));
    expect(state.status).toBe(400);
    expect(state.body).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('adds the failure\'s headers and extension members to the problem, never over the standard ones', () => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/admin/v1/devices'), reply, new HttpFailure(401, 'invalid_request', 'token needed', { headers: { 'www-authenticate': 'Bearer realm="x"' }, problem: { status: 999, hint: 'h' } }));
    expect(state.status).toBe(401);
    expect(state.headers['www-authenticate']).toBe('Bearer realm="x"');
    expect(state.body).toEqual({ hint: 'h', type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'token needed' });
  });

  it('lists input issues in errors', () => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/admin/v1/devices'), reply, inputFailure(422, 'the body is not valid', [{ pointer: '/serial', detail: 'required' }]));
    expect(state.body).toMatchObject({ status: 422, errors: [{ pointer: '/serial', detail: 'required' }] });
  });

  it("shows the gateway's own words for its 503 (a bulk report), but never a service's 5xx message", () => {
    const own = fakeReply();
    sendError(request('/t/demo/admin/v1/devices/bulk'), own.reply, new HttpFailure(503, 'unavailable', 'the upload stopped', { problem: { rows: [] } }));
    expect(own.state.body).toMatchObject({ status: 503, detail: 'the upload stopped', rows: [] });
    const remote = fakeReply();
    sendError(request('/t/demo/admin/v1/devices'), remote.reply, new ContractError('internal', 'SELECT * FROM devices failed'));
    expect(remote.state.body).toMatchObject({ status: 500, detail: 'internal error' });
  });

  it('passes the details of a conflict on, and of nothing else', () => {
    const conflict = fakeReply();
    sendError(request('/t/demo/admin/v1/devices/x/activate'), conflict.reply, new ContractError('conflict', 'illegal transition', { from: 'active', action: 'activate' }));
    expect(conflict.state.body).toMatchObject({ status: 409, details: { from: 'active', action: 'activate' } });
    const other = fakeReply();
    sendError(request('/t/demo/admin/v1/devices'), other.reply, new ContractError('not_found', 'no such device', { table: 'devices' }));
    expect(other.state.body).not.toHaveProperty('details');
  });
});

describe('sendError: rate limits', () => {
  it('answers a 429 on the token endpoint as temporarily_unavailable with Retry-After', () => {
    const { reply, state } = fakeReply();
    sendError(request('/t/demo/oauth2/token'), reply, new HttpFailure(429, 'rate_limited', 'too many token requests; retry after 2 s', { headers: { 'retry-after': '2' } }));
    expect(state.status).toBe(429);
    expect(state.headers['retry-after']).toBe('2');
    expect(state.headers['cache-control']).toBe('no-store');
    expect(state.body).toEqual({ error: 'temporarily_unavailable', error_description: 'too many token requests; retry after 2 s' });
  });
});
