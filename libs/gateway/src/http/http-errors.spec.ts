import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './http-errors.js';

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
});
