import { describe, expect, it } from '@jest/globals';
import { ContractError, defineRequest } from '@latchkey/contracts';
import { RpcException } from '@nestjs/microservices';
import { register } from 'prom-client';
import { z } from 'zod';
import { Handles } from './handles.decorator.js';
import {
  handlerMetrics,
  initMetrics,
  metricsText,
  recordClientRequest,
  recordHttpRequest,
  recordPolicyDecision,
  recordTokenIssued,
  registerPoolMetrics,
  setNatsConnected,
} from './metrics.js';

initMetrics('unit');

async function valueOf(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = register.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  const found = values.find((value) => Object.entries(labels).every(([key, expected]) => String((value.labels as Record<string, unknown>)[key]) === expected));
  return found?.value;
}

const Echo = defineRequest({ subject: 'latchkey.test.v1.echo', request: z.object({ text: z.string() }), reply: z.object({ text: z.string() }) });

class EchoHandler {
  @Handles(Echo)
  echo({ text }: { text: string }) {
    if (text === 'missing') throw new ContractError('not_found', 'no such thing');
    return { text };
  }
}

describe('metrics', () => {
  it('case=should count handled NATS requests by subject and code because the @Handles wrapper records every outcome', async () => {
    const handler = new EchoHandler() as unknown as { echo(raw: unknown): Promise<unknown> };
    await handler.echo({ text: 'hi' });
    await expect(handler.echo({ text: 'missing' })).rejects.toBeInstanceOf(RpcException);
    await expect(handler.echo({ nope: 1 })).rejects.toBeInstanceOf(RpcException);

    const subject = 'latchkey.test.v1.echo';
    expect(await valueOf('latchkey_nats_requests_total', { subject, code: 'ok' })).toBe(1);
    expect(await valueOf('latchkey_nats_requests_total', { subject, code: 'not_found' })).toBe(1);
    expect(await valueOf('latchkey_nats_requests_total', { subject, code: 'invalid_request' })).toBe(1);
    const text = await metricsText();
    expect(text).toMatch(/latchkey_nats_request_duration_seconds_count\{[^}]*subject="latchkey\.test\.v1\.echo"[^}]*\} 3/);
  });

  it('case=should record a handler outcome and its duration because handlerMetrics binds the subject once', async () => {
    handlerMetrics('test.bound').record('ok', 0.002);
    expect(await valueOf('latchkey_nats_requests_total', { subject: 'test.bound', code: 'ok' })).toBe(1);
    expect(await valueOf('latchkey_nats_request_duration_seconds', { subject: 'test.bound', le: '0.0025' })).toBe(1);
  });

  it('case=should label HTTP requests by route pattern, with unmatched routes and unknown methods folded because labels stay bounded', async () => {
    recordHttpRequest('POST', '/t/:tenant/oauth2/token', 200, 0.004);
    recordHttpRequest('POST', '/t/:tenant/oauth2/token', 200, 0.004);
    recordHttpRequest('GET', undefined, 404, 0.001);
    recordHttpRequest('PROPFIND', undefined, 404, 0.001);
    expect(await valueOf('latchkey_http_requests_total', { method: 'POST', route: '/t/:tenant/oauth2/token', status: '200' })).toBe(2);
    expect(await valueOf('latchkey_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(await valueOf('latchkey_http_requests_total', { method: 'other', route: 'unmatched', status: '404' })).toBe(1);
  });

  it('case=should count client requests, tokens issued and policy decisions because each has its own counter', async () => {
    recordClientRequest('latchkey.token.v1.issue', 'ok');
    recordClientRequest('latchkey.token.v1.issue', 'unavailable');
    recordTokenIssued('client_credentials');
    recordPolicyDecision(true, 0.0001);
    recordPolicyDecision(false, 0.0001);
    recordPolicyDecision(false, 0.0001);
    expect(await valueOf('latchkey_nats_client_requests_total', { subject: 'latchkey.token.v1.issue', outcome: 'unavailable' })).toBe(1);
    expect(await valueOf('latchkey_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
    expect(await valueOf('latchkey_policy_decisions_total', { decision: 'deny' })).toBe(2);
    expect(await metricsText()).toMatch(/^latchkey_policy_decision_duration_seconds_count\{service="unit"\} 3$/m);
  });

  it('case=should read the pool counters at scrape time because registerPoolMetrics collects them from the live pools', async () => {
    const pool = { totalCount: 4, idleCount: 3, waitingCount: 0 };
    registerPoolMetrics(() => [{ name: 'latchkey-token', pool }]);
    expect(await valueOf('latchkey_db_pool_connections', { pool: 'latchkey-token' })).toBe(4);
    pool.waitingCount = 2;
    expect(await valueOf('latchkey_db_pool_waiting_requests', { pool: 'latchkey-token' })).toBe(2);
    expect(await valueOf('latchkey_db_pool_idle_connections', { pool: 'latchkey-token' })).toBe(3);
  });

  it('case=should label every series with the service and include process metrics because initMetrics names the process', async () => {
    setNatsConnected(true);
    const text = await metricsText();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="unit"\} /m);
    expect(text).toMatch(/^latchkey_nats_connected\{service="unit"\} 1$/m);
    initMetrics('other');
    expect(await metricsText()).not.toContain('service="other"');
  });
});
