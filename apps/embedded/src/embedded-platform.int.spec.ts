import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IdentityDatabase } from '@latchkey/identity';
import { TokenDatabase } from '@latchkey/token';
import { type RunningEmbeddedPlatform, startEmbeddedPlatform } from './embedded-platform.js';

const basic = `Basic ${Buffer.from('demo-service:demo-service-secret').toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };

describe('the all-in-one process (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-embedded-'));
  let platform: RunningEmbeddedPlatform;

  const start = () =>
    startEmbeddedPlatform({
      dataDir,
      tenants: join(import.meta.dirname, '../../../config/tenants.dev.yaml'),
      publicUrl: 'http://localhost:3000',
      port: 0,
      host: '127.0.0.1',
      requestTimeoutMs: 10_000,
      logLevel: 'error',
      passwordHashing: { memoryCost: 1024, timeCost: 1 },
    });

  beforeAll(async () => {
    platform = await start();
  }, 60_000);

  afterAll(async () => {
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the demo tenant: discovery, a client-credentials token, introspection', async () => {
    const discovery = await fetch(`${platform.url}/t/demo/.well-known/openid-configuration`).then((r) => r.json());
    expect(discovery).toMatchObject({ issuer: 'http://localhost:3000/t/demo', grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'] });
    const response = await fetch(`${platform.url}/t/demo/oauth2/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' });
    expect(response.status).toBe(200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    const introspection = await fetch(`${platform.url}/t/demo/oauth2/introspect`, { method: 'POST', headers: form, body: `token=${token}` }).then((r) => r.json());
    expect(introspection).toMatchObject({ active: true, client_id: 'demo-service' });
  });

  it('keeps many concurrent requests correct over the single PGlite session', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${platform.url}/t/demo/oauth2/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' }).then(async (r) => {
          expect(r.status).toBe(200);
          return ((await r.json()) as { access_token: string }).access_token;
        }),
      ),
    );
    const revoked = tokens.slice(0, 20);
    await Promise.all(revoked.map((token) => fetch(`${platform.url}/t/demo/oauth2/revoke`, { method: 'POST', headers: form, body: `token=${token}` })));
    const states = await Promise.all(
      tokens.map((token) =>
        fetch(`${platform.url}/t/demo/oauth2/introspect`, { method: 'POST', headers: form, body: `token=${token}` })
          .then((r) => r.json())
          .then((body) => (body as { active: boolean }).active),
      ),
    );
    expect(states).toEqual(tokens.map((token) => !revoked.includes(token)));
  });

  it('runs interactive transactions of two services at once on the shared one-connection pool', async () => {
    const config = { kind: 'shared-pool' as const, pool: platform.postgres.pool };
    const token = new TokenDatabase(config);
    const identity = new IdentityDatabase(config);
    const work = (n: number) => [
      token.prisma.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ n: number }[]>`SELECT ${n}::int AS n`;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return row!.n;
      }),
      identity.prisma.$transaction(async (tx) => (await tx.user.count({ where: { tenant: 'demo' } })) + n * 1000),
    ];
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => work(n)).flat());
    expect(results).toEqual(Array.from({ length: 10 }, (_, n) => [n, 2 + n * 1000]).flat());
    await token.close();
    await identity.close();
  });

  it('keeps its data and signing key across a restart', async () => {
    const before = await fetch(`${platform.url}/t/demo/jwks`).then((r) => r.json());
    await platform.close();
    platform = await start();
    const after = await fetch(`${platform.url}/t/demo/jwks`).then((r) => r.json());
    expect(after).toEqual(before);
  }, 60_000);
});
