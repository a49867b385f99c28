// One token request is one trace (issue #7): the platform runs with OTEL_EXPORTER_OTLP_ENDPOINT pointing
// at a tiny OTLP/HTTP JSON receiver started here, one client_credentials request for demo-service is made
// (a fresh platform: the token service has no cached policy decision, so it asks the policy service), and
// the spans the gateway, token and policy services export must share one trace id with the parent links
// gateway SERVER → gateway CLIENT latchkey.token.v1.issue → token SERVER → token CLIENT
// latchkey.policy.v1.decide-batch → policy SERVER. The trace tree is printed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, postForm, type ServiceName, startE2eEnvironment } from './support/platform.js';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: number | undefined;
}

const SERVER = 2;
const CLIENT = 3;
const SERVICES: ServiceName[] = ['identity', 'token', 'delegation', 'device-registry', 'policy', 'gateway'];

const received: ReceivedSpan[] = [];
let receiver: Server;
let env: E2eEnvironment;

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

const valueOf = (value: AnyValue): unknown => value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));
const attributesOf = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

function collect(body: string): void {
  const request = JSON.parse(body) as {
    resourceSpans?: {
      resource?: { attributes?: KeyValue[] };
      scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[]; status?: { code?: number } }[] }[];
    }[];
  };
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        received.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
          status: span.status?.code,
        });
      }
    }
  }
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') collect(body);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' };
  env = await startE2eEnvironment({ serviceEnv: Object.fromEntries(SERVICES.map((service) => [service, otel])) });
}, 90_000);

afterAll(async () => {
  await env?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

function printTree(spans: ReceivedSpan[]): string {
  const lines: string[] = [];
  const children = (parent: string | undefined) => spans.filter((span) => span.parentSpanId === parent || (parent === undefined && !spans.some((s) => s.spanId === span.parentSpanId)));
  const walk = (span: ReceivedSpan, depth: number) => {
    const kind = span.kind === SERVER ? 'SERVER' : span.kind === CLIENT ? 'CLIENT' : `kind=${span.kind}`;
    const status = span.attributes['http.status_code'] !== undefined ? ` status=${String(span.attributes['http.status_code'])}` : '';
    lines.push(`${'  '.repeat(depth)}[${span.service}] ${kind} ${span.name} (span ${span.spanId})${status}`);
    for (const child of spans.filter((s) => s.parentSpanId === span.spanId)) walk(child, depth + 1);
  };
  for (const root of children(undefined)) walk(root, 0);
  return lines.join('\n');
}

describe('tracing', () => {
  it('makes one client_credentials token request one trace across gateway, token and policy', async () => {
    const result = await postForm(`${env.platform.issuer('demo')}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read' }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret));
    expect(result.status).toBe(200);

    const find = (service: string, kind: number, name: string | ((name: string) => boolean), parent?: ReceivedSpan) =>
      received.find(
        (span) =>
          span.service === service &&
          span.kind === kind &&
          (typeof name === 'string' ? span.name === name : name(span.name)) &&
          (!parent || (span.traceId === parent.traceId && span.parentSpanId === parent.spanId)),
      );
    const chain = () => {
      const edge = find('gateway', SERVER, (name) => name.startsWith('POST ') && name.endsWith('/oauth2/token'));
      const issue = edge && find('gateway', CLIENT, 'latchkey.token.v1.issue', edge);
      const tokenServer = issue && find('token', SERVER, 'latchkey.token.v1.issue', issue);
      const decide = tokenServer && find('token', CLIENT, 'latchkey.policy.v1.decide-batch', tokenServer);
      const policyServer = decide && find('policy', SERVER, 'latchkey.policy.v1.decide-batch', decide);
      return { edge, issue, tokenServer, decide, policyServer };
    };
    // Spans arrive in batches (OTEL_BSP_SCHEDULE_DELAY=200 ms) from three processes.
    const deadline = Date.now() + 15_000;
    while (!chain().policyServer && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // Let the gateway's SERVER span (ended after the response) and late batches land too.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const { edge, issue, tokenServer, decide, policyServer } = chain();
    const traceId = edge?.traceId;
    const trace = received.filter((span) => span.traceId === traceId);
    console.log(`trace ${traceId ?? '(none)'}: ${trace.length} spans\n${printTree(trace)}`);

    expect(edge).toBeDefined();
    expect(edge!.parentSpanId).toBeUndefined();
    expect(edge!.attributes).toMatchObject({ 'http.method': 'POST', 'http.route': '/t/:tenant/oauth2/token', 'http.status_code': 200 });
    expect(issue).toBeDefined();
    expect(tokenServer).toBeDefined();
    expect(decide).toBeDefined();
    expect(policyServer).toBeDefined();
    // One trace id for all of them, from the three services.
    expect(new Set([edge, issue, tokenServer, decide, policyServer].map((span) => span!.traceId))).toEqual(new Set([traceId]));
    const services = new Set(trace.map((span) => span.service));
    for (const service of ['gateway', 'token', 'policy']) expect(services.has(service)).toBe(true);
    for (const span of [edge, issue, tokenServer, decide, policyServer]) expect(span!.status).not.toBe(2);
  }, 30_000);
});
