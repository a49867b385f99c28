// A tenant whose issuer is not `${PUBLIC_URL}/t/<id>` (tenants[].issuer: a custom domain reaching the same
// gateway). Here the platform's PUBLIC_URL is http://127.0.0.1:<port> and tenant demo's issuer is
// http://localhost:<port>/t/demo: every service must agree on it — discovery, the token's `iss`,
// introspection and the guard.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { devTenants, tenantsYaml } from './support/device.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

let env: E2eEnvironment;
let tenants: { path: string; remove(): void };
let issuer: string;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://localhost:${port}/t/demo`;
  const file = devTenants();
  const demo = file.tenants.find((tenant) => tenant.id === 'demo')!;
  demo.issuer = issuer;
  tenants = writeTenantsFile(tenantsYaml(file));
  env = await startE2eEnvironment({ tenantsFile: tenants.path, port });
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenants?.remove();
});

describe('a tenant with its own issuer', () => {
  it('case=should publish the overridden issuer in discovery, whichever host is asked', async () => {
    for (const base of [issuer, env.platform.issuer('demo')]) {
      const metadata = (await http(`${base}/.well-known/openid-configuration`)).json as Record<string, string>;
      expect(metadata).toMatchObject({ issuer, token_endpoint: `${issuer}/oauth2/token`, jwks_uri: `${issuer}/jwks` });
    }
  });

  it('case=should sign tokens with that issuer and accept them back through introspection and the guard', async () => {
    const issued = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: 'devices:read' }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret));
    expect(issued.status).toBe(200);
    const token = (issued.json as { access_token: string }).access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: issuer, aud: issuer, tenant: 'demo' });
    expect((await postForm(`${issuer}/oauth2/introspect`, { token }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret))).json).toMatchObject({ active: true, iss: issuer });
    expect((await http(`${issuer}/admin/v1/devices?limit=1`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
