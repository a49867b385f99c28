import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayEnv, parseEnv } from '@latchkey/config';
import { type DynamicModule, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { clientIpOf } from './browser/page-security.js';
import { createHttpApp } from './http-app.js';

/**
 * X-Forwarded-* from an untrusted peer must change nothing: the IP throttles of login, device codes and
 * claim codes count a client under the address the gateway derives here.
 */
@Module({})
class EmptyModule {}

async function appTrusting(trustedProxies?: readonly string[]): Promise<NestFastifyApplication> {
  const app = await createHttpApp({ module: EmptyModule } satisfies DynamicModule, [], trustedProxies ? { trustedProxies } : {});
  app
    .getHttpAdapter()
    .getInstance()
    .get('/whoami', (request, reply) => {
      reply.send({ ip: request.ip, protocol: request.protocol, host: request.host, peer: clientIpOf(request) });
    });
  await app.init();
  return app;
}

const FORGED = { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };

async function whoami(app: NestFastifyApplication, remoteAddress: string, headers: Record<string, string> = FORGED) {
  const response = await app.inject({ method: 'GET', url: '/whoami', remoteAddress, headers: { host: 'auth.example.com', ...headers } });
  expect(response.statusCode).toBe(200);
  return response.json() as { ip: string; protocol: string; host: string; peer: string };
}

describe('TRUSTED_PROXIES', () => {
  let untrusting: NestFastifyApplication;
  let trusting: NestFastifyApplication;

  beforeAll(async () => {
    untrusting = await appTrusting();
    trusting = await appTrusting(parseEnv(GatewayEnv, { TRUSTED_PROXIES: '10.42.0.0/16, 127.0.0.1' }).TRUSTED_PROXIES);
  });

  afterAll(async () => {
    await untrusting?.close();
    await trusting?.close();
  });

  it('case=should ignore a forged X-Forwarded-For, -Proto and -Host when no proxy is trusted (the default)', async () => {
    expect(parseEnv(GatewayEnv, {}).TRUSTED_PROXIES).toEqual([]);
    const seen = await whoami(untrusting, '10.42.7.9');
    expect(seen).toEqual({ ip: '10.42.7.9', protocol: 'http', host: 'auth.example.com', peer: '10.42.7.9' });
  });

  it('case=should ignore the headers from a peer outside the trusted ranges', async () => {
    const seen = await whoami(trusting, '198.51.100.7');
    expect(seen).toMatchObject({ ip: '198.51.100.7', protocol: 'http', host: 'auth.example.com', peer: '198.51.100.7' });
  });

  it('case=should take the client address and scheme from a trusted proxy, and stop at the first untrusted hop', async () => {
    // The throttles (clientIpOf) count the client, not the proxy.
    expect(await whoami(trusting, '10.42.3.4', { 'x-forwarded-for': '192.0.2.10', 'x-forwarded-proto': 'https' })).toMatchObject({ ip: '192.0.2.10', protocol: 'https', peer: '192.0.2.10' });
    // The client prepended a forged address; the proxy appended the one it saw: the forged one is not believed.
    expect(await whoami(trusting, '10.42.3.4', { 'x-forwarded-for': '203.0.113.66, 192.0.2.10' })).toMatchObject({ ip: '192.0.2.10' });
  });
});
