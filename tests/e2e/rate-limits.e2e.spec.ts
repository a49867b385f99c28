// Per-tenant token endpoint rate limits (issue #7), end to end: the demo tenant gets
// `rateLimits: { tokenRequestsPerSecond: 2, burst: 3 }`; demo-service may make 3 quick token
// requests, the 4th is a 429 with Retry-After, another client keeps its own bucket, and after the
// refill demo-service gets tokens again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { devTenants, tenantsYaml } from './support/device.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let tokenEndpoint: string;

beforeAll(async () => {
  const tenants = devTenants();
  tenants.tenants[0]!.rateLimits = { tokenRequestsPerSecond: 2, burst: 3 };
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path });
  tokenEndpoint = `${env.platform.issuer('demo')}/oauth2/token`;
}, 90_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const clientCredentials = (clientId: string, secret: string): Promise<HttpResult> =>
  postForm(tokenEndpoint, { grant_type: 'client_credentials', scope: 'devices:read' }, basicAuth(clientId, secret));

describe('token endpoint rate limits', () => {
  it('allows the burst, refuses the next request with 429, keeps clients apart and refills', async () => {
    // Sequential and quick: 3 requests take far less than the half second one token needs to come back.
    for (let i = 0; i < 3; i++) {
      const answer = await clientCredentials(DEMO_CLIENT.id, DEMO_CLIENT.secret);
      expect(answer.status).toBe(200);
    }

    const refused = await clientCredentials(DEMO_CLIENT.id, DEMO_CLIENT.secret);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.json).toEqual({ error: 'temporarily_unavailable', error_description: `too many token requests; retry after ${retryAfter} s` });

    // Another client of the tenant has a bucket of its own.
    const other = await postForm(tokenEndpoint, { grant_type: 'authorization_code', code: 'nope', redirect_uri: 'http://localhost:8080/callback' }, basicAuth('demo-web', 'demo-web-secret'));
    expect(other.status).toBe(400);
    expect((other.json as { error: string }).error).toBe('invalid_grant');

    await sleep(retryAfter * 1000);
    const again = await clientCredentials(DEMO_CLIENT.id, DEMO_CLIENT.secret);
    expect(again.status).toBe(200);
    expect((again.json as { access_token?: string }).access_token).toEqual(expect.any(String));
  }, 30_000);
});
