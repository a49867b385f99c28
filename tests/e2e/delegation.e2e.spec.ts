// Sharing (issue #5) end to end, through the HTTP edge only: Adam shares lock-1 with Bianca (the
// delegations API), Bianca gets delegated tokens both ways (userinfo's `delegations` claim and RFC 8693
// token exchange as the public demo-app), unlocks the lock with them (the demo command endpoint), the
// device's audit trail says "Bianca for Adam under grant g", and Adam's revocation ends it within a
// second. Then the refusals: scope escalation, sharing what is not yours, re-delegation, windows,
// weekdays, replay, cross-tenant, and constraints checked again at use.
//
// Clocks: the delegation service's clock is moved (serviceEnv LATCHKEY_CLOCK_OFFSET_MS) to the next
// Tuesday 10:00 in Zurich, and it runs on from there; so is the time the gateway and the token service
// pin in the policy's decisions for delegated tokens (the policy checks the grant's window too, issue
// #6). Grant windows are therefore written relative to that SHIFTED now (`clock.iso(...)`): the
// delegation service checks notBefore / expiresAt and the weekdays on its clock. The token service's
// `iat` / `exp` stay on the real clock; a delegated token lives min(300 s, until the grant's
// expiresAt), and since the shifted now is ahead of the real one, a grant expiring a few shifted
// seconds from now still gives a 300 s token: only the use-time check (`CheckGrant`, on the shifted
// clock) can stop it — which is what the expiry test proves.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { bearerJson, exchangeToken, nextWallClock, ShiftedClock, timeUntil, wallClock } from './support/delegation.js';
import { devTenants, tenantsYaml } from './support/device.js';
import { clientCredentialsToken, DEMO_APP, userAccessToken } from './support/oauth.js';
import { basicAuth, DEMO_CLIENT, type E2eEnvironment, http, type HttpResult, postForm, startE2eEnvironment, writeTenantsFile } from './support/platform.js';

const ZURICH = 'Europe/Zurich';
const DAY = 86_400_000;
const ADAM = { username: 'adam', password: 'adam-password' };
const BIANCA = { username: 'bianca', password: 'bianca-password' };
const CARL = { username: 'carl', password: 'carl-password' };
/** What demo-app asks for on behalf of each person (authorization code + PKCE). */
const PERSON_SCOPES = 'openid profile lock:unlock delegations delegations:read delegations:write';
const WEEKDAYS = { timeZone: ZURICH, weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] };

// The delegation service's "now": the next Tuesday 10:00 in Zurich, computed from the real now.
const TUESDAY_10 = nextWallClock(Date.now(), 'tue', 10, ZURICH);
const clock = new ShiftedClock(TUESDAY_10 - Date.now());

interface Grant {
  id: string;
  delegator: { id: string; name: string };
  delegatee: { type: string; id: string; name: string };
  resource: string;
  scopes: string[];
  notBefore: string;
  expiresAt: string;
  constraints: Record<string, unknown> | null;
  redelegation: { allowed: boolean; maxDepth: number };
  depth: number;
  parentId: string | null;
  status: string;
  createdAt: string;
}
interface DelegatedEntry {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string[];
  resource: string;
  grant_id: string;
}
interface CommandReceipt {
  commandId: string;
  device: { id: string; serial: string };
  command: string;
  actor: { type: string; id: string };
  onBehalfOf: string | null;
  grantId: string | null;
  at: string;
}

let env: E2eEnvironment;
let tenantsFile: ReturnType<typeof writeTenantsFile>;
let issuer: string;
let otherIssuer: string;
let adamToken: string;
let biancaToken: string;
let carlToken: string;
let otherBiancaToken: string;
let otherAdamToken: string;
let serviceToken: string;
let adamId: string;
let biancaId: string;
let carlId: string;

beforeAll(async () => {
  // The development tenants, plus Carl (a third person, for re-delegation), `delegations:admin` for the
  // demo service, and a second tenant `other` with the same clients and people but no devices.
  const tenants = devTenants();
  const demo = tenants.tenants[0]!;
  demo.users.push({ username: 'carl', password: 'carl-password', email: 'carl@example.com', displayName: 'Carl', roles: ['device-owner'] });
  const service = demo.clients.find((client) => client.clientId === 'demo-service')!;
  service.scopes = [...(service.scopes as string[]), 'delegations:admin'];
  tenants.tenants.push({ ...structuredClone(demo), id: 'other', displayName: 'Other fleet', devices: [] });
  tenantsFile = writeTenantsFile(tenantsYaml(tenants));
  const shifted = { LATCHKEY_CLOCK_OFFSET_MS: String(clock.offsetMs) };
  env = await startE2eEnvironment({ tenantsFile: tenantsFile.path, serviceEnv: { delegation: shifted, gateway: shifted, token: shifted } });
  issuer = env.platform.issuer('demo');
  otherIssuer = env.platform.issuer('other');
  [adamToken, biancaToken, carlToken, otherBiancaToken, otherAdamToken, serviceToken] = await Promise.all([
    userAccessToken(issuer, ADAM, PERSON_SCOPES, DEMO_APP),
    userAccessToken(issuer, BIANCA, PERSON_SCOPES, DEMO_APP),
    userAccessToken(issuer, CARL, PERSON_SCOPES, DEMO_APP),
    userAccessToken(otherIssuer, BIANCA, PERSON_SCOPES, DEMO_APP),
    userAccessToken(otherIssuer, ADAM, PERSON_SCOPES, DEMO_APP),
    clientCredentialsToken(issuer, DEMO_CLIENT, 'devices:read delegations:admin'),
  ]);
  [adamId, biancaId, carlId] = [adamToken, biancaToken, carlToken].map((token) => decodeJwt(token).sub!);
}, 180_000);

afterAll(async () => {
  await env?.close();
  tenantsFile?.remove();
});

const delegationsUrl = (path = '', at = issuer) => `${at}/v1/delegations${path}`;
const commandUrl = (name: string, device = 'lock-1', at = issuer) => `${at}/v1/devices/${encodeURIComponent(device)}/commands/${name}`;
const sendCommand = (token: string, name = 'unlock', device = 'lock-1', at = issuer) => bearerJson('POST', commandUrl(name, device, at), token);
const userinfo = (token: string, at = issuer) => http(`${at}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });
const introspect = (token: string) => postForm(`${issuer}/oauth2/introspect`, { token }, basicAuth(DEMO_CLIENT.id, DEMO_CLIENT.secret));

/** Adam's share of lock-1 with Bianca as the seed describes it, with `overrides`. */
function shareOfLock(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { delegatee: { type: 'user', username: 'bianca' }, resource: 'device:lock-1', scopes: ['lock:unlock'], expiresAt: clock.iso(14 * DAY), constraints: WEEKDAYS, ...overrides };
}

async function share(token: string, body: Record<string, unknown>): Promise<Grant> {
  const response = await bearerJson('POST', delegationsUrl(), token, body);
  expect({ status: response.status, body: response.json }).toMatchObject({ status: 201 });
  const { grant } = response.json as { grant: Grant };
  expect(response.headers.get('location')).toBe(delegationsUrl(`/${grant.id}`));
  return grant;
}

/** Bianca's (or `token`'s) delegated token for lock-1 by token exchange at demo-app. */
async function exchangedToken(token = biancaToken, resource = 'device:lock-1', scope = 'lock:unlock'): Promise<string> {
  const response = await exchangeToken(issuer, token, { resource, scope, client: DEMO_APP });
  expect({ status: response.status, body: response.json }).toMatchObject({ status: 200 });
  return (response.json as { access_token: string }).access_token;
}

function expectOAuthError(response: HttpResult, errors: readonly string[]): void {
  expect(response.status).toBe(400);
  expect(errors).toContain((response.json as { error?: string }).error);
}

function expectProblem(response: HttpResult, status: number): { detail: string; [member: string]: unknown } {
  expect({ status: response.status, body: response.json }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return response.json as { detail: string };
}

/** A delegated token that is refused is a 401 invalid_token (whether the token service or the grant check said so). */
function expectRefusedToken(response: HttpResult): void {
  expectProblem(response, 401);
  expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
}

async function delegationsOf(token: string): Promise<Record<string, DelegatedEntry>> {
  const response = await userinfo(token);
  expect(response.status).toBe(200);
  return (response.json as { delegations?: Record<string, DelegatedEntry> }).delegations ?? {};
}

/** Ends every active grant Adam made (and with them what was re-delegated): refusal tests start clean. */
async function revokeAdamsGrants(): Promise<void> {
  const page = await bearerJson('GET', delegationsUrl('?role=delegator&status=active&limit=100'), adamToken);
  for (const grant of (page.json as { items?: Grant[] }).items ?? []) await bearerJson('POST', delegationsUrl(`/${grant.id}/revoke`), adamToken);
}

describe('discovery', () => {
  it('advertises token exchange, the delegations claim and the sharing scopes', async () => {
    const metadata = (await http(`${issuer}/.well-known/openid-configuration`)).json as Record<string, string[]>;
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    expect(metadata.claims_supported).toContain('delegations');
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['delegations', 'delegations:read', 'delegations:write', 'lock:unlock']));
    const openapi = (await http(`${issuer}/admin/v1/openapi.json`)).json as { info: { description: string }; components: { schemas: Record<string, unknown> } };
    expect(openapi.components.schemas).toHaveProperty('DelegationsClaim');
    expect(openapi.info.description).toContain('`delegations` claim');
  });
});

describe('the seed scenario: Adam shares lock-1 with Bianca', () => {
  let grant: Grant;
  let fromUserinfo: DelegatedEntry;
  let fromExchange: string;
  let receipt: CommandReceipt;

  it('refuses Bianca sharing lock-1, which she does not own (403), and creates nothing', async () => {
    const refused = expectProblem(await bearerJson('POST', delegationsUrl(), biancaToken, { ...shareOfLock(), delegatee: { type: 'user', username: 'carl' } }), 403);
    expect(refused.detail).toMatch(/own/);
    const mine = await bearerJson('GET', delegationsUrl('?role=delegator'), biancaToken);
    expect(mine.json).toEqual({ items: [], nextCursor: null });
  });

  it('lets Adam share device:lock-1 with Bianca: lock:unlock, Monday to Friday in Zurich, for two weeks (201 + Location)', async () => {
    grant = await share(adamToken, shareOfLock());
    expect(grant).toMatchObject({
      delegator: { id: adamId, name: 'adam' },
      delegatee: { type: 'user', id: biancaId, name: 'bianca' },
      resource: 'device:lock-1',
      scopes: ['lock:unlock'],
      constraints: WEEKDAYS,
      redelegation: { allowed: false },
      depth: 0,
      parentId: null,
      status: 'active',
    });
    // The delegation service's clock is the shifted Tuesday 10:00 in Zurich; the token service's is real.
    expect(wallClock(Date.parse(grant.createdAt), ZURICH)).toMatchObject({ weekday: 'tue', hour: 10 });
    expect(Math.abs(Date.parse(grant.createdAt) - clock.now())).toBeLessThan(60_000);
    expect(Math.abs((decodeJwt(biancaToken).iat ?? 0) * 1000 - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('shows the grant to both of them (by role, and by its URL), not to Carl', async () => {
    expect(((await bearerJson('GET', delegationsUrl('?role=delegator'), adamToken)).json as { items: Grant[] }).items.map((g) => g.id)).toContain(grant.id);
    expect(((await bearerJson('GET', delegationsUrl('?role=delegatee&status=active'), biancaToken)).json as { items: Grant[] }).items.map((g) => g.id)).toEqual([grant.id]);
    for (const token of [adamToken, biancaToken]) {
      const read = await bearerJson('GET', delegationsUrl(`/${grant.id}`), token);
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ grant: { id: grant.id }, audit: [expect.objectContaining({ event: 'granted', actor: { type: 'user', id: adamId } })] });
    }
    expectProblem(await bearerJson('GET', delegationsUrl(`/${grant.id}`), carlToken), 404);
  });

  it('refuses re-delegation of a grant that does not allow it: Bianca cannot pass lock-1 on to Carl (403)', async () => {
    expectProblem(await bearerJson('POST', delegationsUrl(), biancaToken, { ...shareOfLock({ expiresAt: clock.iso(DAY) }), delegatee: { type: 'user', username: 'carl' } }), 403);
  });

  it('gives Bianca a delegated token in userinfo (her own token with the delegations scope): sub Adam, act Bianca, gid the grant', async () => {
    const delegations = await delegationsOf(biancaToken);
    expect(Object.keys(delegations)).toEqual(['adam']);
    fromUserinfo = delegations.adam!;
    expect(fromUserinfo).toMatchObject({ token_type: 'Bearer', scope: ['lock:unlock'], resource: 'device:lock-1', grant_id: grant.id });
    expect(fromUserinfo.expires_in).toBeLessThanOrEqual(300);
    expect(decodeJwt(fromUserinfo.access_token)).toMatchObject({ sub: adamId, act: { sub: biancaId }, gid: grant.id, client_id: 'demo-app', scope: 'lock:unlock' });
    expect([decodeJwt(fromUserinfo.access_token).aud].flat()).toContain('device:lock-1');
  });

  it('gives her one by RFC 8693 token exchange at demo-app too', async () => {
    const response = await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', scope: 'lock:unlock' });
    fromExchange = (response.json as { access_token: string }).access_token;
    expect(decodeJwt(fromExchange)).toMatchObject({ sub: adamId, act: { sub: biancaId }, gid: grant.id });
    expect((await introspect(fromExchange)).json).toMatchObject({ active: true, sub: adamId, act: { sub: biancaId }, gid: grant.id });
  });

  it('unlocks lock-1 with either token: recorded as Bianca acting for Adam under the grant', async () => {
    for (const token of [fromUserinfo.access_token, fromExchange]) {
      const response = await sendCommand(token);
      expect({ status: response.status, body: response.json }).toMatchObject({ status: 200 });
      receipt = response.json as CommandReceipt;
      expect(receipt).toMatchObject({ device: { serial: 'lock-1' }, command: 'unlock', actor: { type: 'user', id: biancaId }, onBehalfOf: adamId, grantId: grant.id });
    }
    const audit = await bearerJson('GET', `${issuer}/admin/v1/devices/${receipt.device.id}/audit?limit=20`, serviceToken);
    expect(audit.status).toBe(200);
    const record = (audit.json as { items: Array<{ event: string; actor: unknown; details: Record<string, unknown> }> }).items.find((item) => item.details.commandId === receipt.commandId);
    expect(record).toMatchObject({ event: 'command', actor: { type: 'user', id: biancaId }, details: { command: 'unlock', onBehalfOf: adamId, grantId: grant.id } });
  });

  it('lets Adam use his own lock with his own token (no one acted for anyone)', async () => {
    const response = await sendCommand(adamToken, 'lock');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ command: 'lock', actor: { type: 'user', id: adamId }, onBehalfOf: null, grantId: null });
  });

  it('refuses Bianca’s own token on Adam’s lock (403)', async () => {
    expectProblem(await sendCommand(biancaToken), 403);
  });

  it('lets the delegated token do nothing beyond the grant: no configure, no admin API, no sharing as Adam, no more delegations', async () => {
    const configure = expectProblem(await sendCommand(fromExchange, 'configure'), 403);
    expect(configure.detail).toMatch(/lock:configure/);
    expectProblem(await bearerJson('GET', `${issuer}/admin/v1/devices`, fromExchange), 403);
    const asAdam = expectProblem(await bearerJson('POST', delegationsUrl(), fromExchange, { ...shareOfLock(), delegatee: { type: 'user', username: 'carl' } }), 403);
    expect(asAdam.detail).toMatch(/delegated token/);
    expectProblem(await bearerJson('GET', delegationsUrl('?role=delegator'), fromExchange), 403);
    // Exchanging a delegated token again would re-delegate without a grant that allows it.
    expectOAuthError(await exchangeToken(issuer, fromExchange, { resource: 'device:lock-1', client: DEMO_APP }), ['invalid_request', 'invalid_grant']);
  });

  it('refuses scope escalation: exchanging for lock:configure, which the grant does not give, is invalid_scope', async () => {
    expectOAuthError(await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:configure', client: DEMO_APP }), ['invalid_scope']);
  });

  it('does not let Bianca revoke Adam’s grant (403)', async () => {
    expectProblem(await bearerJson('POST', delegationsUrl(`/${grant.id}/revoke`), biancaToken), 403);
  });

  it('ends it when Adam revokes: within a second both delegated tokens are refused and introspection says inactive', async () => {
    const revoked = await bearerJson('POST', delegationsUrl(`/${grant.id}/revoke`), adamToken, { reason: 'the bike is back' });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ grant: { id: grant.id, status: 'revoked', reason: 'the bike is back', endedBy: { type: 'user', id: adamId } } });
    const refusedWithin = await timeUntil(async () => (await sendCommand(fromUserinfo.access_token)).status === 401 && (await sendCommand(fromExchange)).status === 401, 1000);
    const inactiveWithin = await timeUntil(async () => ((await introspect(fromExchange)).json as { active: boolean }).active === false && ((await introspect(fromUserinfo.access_token)).json as { active: boolean }).active === false, 1000);
    expect({ refusedWithin, inactiveWithin }).toEqual({ refusedWithin: expect.any(Number), inactiveWithin: expect.any(Number) });
    expect(refusedWithin).toBeLessThan(1100);
    expect(inactiveWithin).toBeLessThan(1100);
    expectRefusedToken(await sendCommand(fromExchange));
  });

  it('refuses replaying the exchange after revocation, and userinfo lists nothing from Adam any more', async () => {
    expectOAuthError(await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP }), ['invalid_target', 'invalid_grant']);
    expect(await delegationsOf(biancaToken)).toEqual({});
  });

  it('leaves Bianca’s own token working for her own things', async () => {
    expect((await userinfo(biancaToken)).json).toMatchObject({ sub: biancaId, preferred_username: 'bianca' });
    const mine = await bearerJson('GET', delegationsUrl('?role=delegatee'), biancaToken);
    expect(mine.status).toBe(200);
    expect((mine.json as { items: Grant[] }).items).toEqual([expect.objectContaining({ id: grant.id, status: 'revoked' })]);
    const trail = await bearerJson('GET', delegationsUrl(`/${grant.id}`), biancaToken);
    expect((trail.json as { audit: Array<{ event: string }> }).audit.map((record) => record.event)).toEqual(expect.arrayContaining(['granted', 'revoked']));
  });

  it('answers a second revocation or a late decline with 409, changing nothing', async () => {
    expectProblem(await bearerJson('POST', delegationsUrl(`/${grant.id}/revoke`), adamToken), 409);
    expectProblem(await bearerJson('POST', delegationsUrl(`/${grant.id}/decline`), biancaToken), 409);
    expect(((await bearerJson('GET', delegationsUrl(`/${grant.id}`), adamToken)).json as { grant: Grant }).grant).toMatchObject({ status: 'revoked' });
  });
});

describe('refusals', () => {
  afterEach(revokeAdamsGrants);

  it('gives no token for a grant that is not valid yet (exchange refused, userinfo leaves it out)', async () => {
    const later = await share(adamToken, shareOfLock({ notBefore: clock.iso(DAY), expiresAt: clock.iso(3 * DAY) }));
    expectOAuthError(await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP }), ['invalid_grant']);
    expect(Object.values(await delegationsOf(biancaToken)).map((entry) => entry.grant_id)).not.toContain(later.id);
  });

  it('stops a token when its grant expires on the delegation service’s clock, and gives no new one', async () => {
    const brief = await share(adamToken, shareOfLock({ expiresAt: clock.iso(6000), constraints: undefined }));
    const token = await exchangedToken();
    expect((await sendCommand(token)).status).toBe(200);
    // The token itself lives 300 s on the real clock; the grant ends in a few shifted seconds.
    expect((decodeJwt(token).exp ?? 0) * 1000).toBeGreaterThan(Date.now() + 60_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(brief.expiresAt) - clock.now() + 500)));
    const refused = expectProblem(await sendCommand(token), 401);
    expect(refused.detail).toMatch(/delegation|invalid|expired|revoked/);
    expectOAuthError(await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP }), ['invalid_grant', 'invalid_target']);
  }, 60_000);

  it('respects the time window: a grant for Saturday and Sunday gives nothing on the (shifted) Tuesday', async () => {
    const weekend = await share(adamToken, shareOfLock({ constraints: { timeZone: ZURICH, weekdays: ['sat', 'sun'] } }));
    const refused = await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP });
    expectOAuthError(refused, ['invalid_grant']);
    expect(Object.values(await delegationsOf(biancaToken)).map((entry) => entry.grant_id)).not.toContain(weekend.id);
  });

  it('refuses a window in the past and sharing with yourself (422), and bad input (400/422/404), creating nothing', async () => {
    const before = ((await bearerJson('GET', delegationsUrl('?role=delegator&limit=100'), adamToken)).json as { items: Grant[] }).items.length;
    expectProblem(await bearerJson('POST', delegationsUrl(), adamToken, shareOfLock({ expiresAt: clock.iso(-60_000) })), 422);
    expectProblem(await bearerJson('POST', delegationsUrl(), adamToken, shareOfLock({ delegatee: { type: 'user', username: 'adam' } })), 422);
    expectProblem(await bearerJson('POST', delegationsUrl(), adamToken, shareOfLock({ resource: 'lock-1' })), 422);
    expectProblem(await bearerJson('POST', delegationsUrl(), adamToken, shareOfLock({ delegator: { id: carlId } })), 422);
    expectProblem(await http(delegationsUrl(), { method: 'POST', headers: { authorization: `Bearer ${adamToken}`, 'content-type': 'application/json' }, body: '{"delegatee": ' }), 400);
    expectProblem(await bearerJson('GET', delegationsUrl('?role=owner'), adamToken), 400);
    expectProblem(await bearerJson('GET', delegationsUrl('/not-a-grant'), adamToken), 404);
    expect(((await bearerJson('GET', delegationsUrl('?role=delegator&limit=100'), adamToken)).json as { items: Grant[] }).items).toHaveLength(before);
  });

  /** Adam → Bianca (re-delegable once) → Carl: the two grants. */
  async function chainToCarl(): Promise<{ parent: Grant; child: Grant }> {
    const parent = await share(adamToken, shareOfLock({ redelegation: { allowed: true, maxDepth: 1 } }));
    const child = await share(biancaToken, { ...shareOfLock({ expiresAt: clock.iso(7 * DAY) }), delegatee: { type: 'user', username: 'carl' } });
    return { parent, child };
  }

  it('allows one more hop when the grant says so, but not deeper; revoking the first grant ends the second', async () => {
    const parent = await share(adamToken, shareOfLock({ redelegation: { allowed: true, maxDepth: 1 } }));
    const toCarl = { ...shareOfLock({ expiresAt: clock.iso(7 * DAY) }), delegatee: { type: 'user', username: 'carl' } };
    const tooDeep = expectProblem(await bearerJson('POST', delegationsUrl(), biancaToken, { ...toCarl, redelegation: { allowed: true, maxDepth: 1 } }), 403);
    expect(tooDeep.detail).toMatch(/deep/);
    const child = await share(biancaToken, toCarl);
    expect(child).toMatchObject({ parentId: parent.id, depth: 1, delegator: { id: biancaId }, delegatee: { id: carlId } });
    // Carl holds a grant that allows no further hop.
    expectProblem(await bearerJson('POST', delegationsUrl(), carlToken, { ...toCarl, delegatee: { type: 'user', username: 'adam' }, expiresAt: clock.iso(DAY) }), 403);
    const revoked = await bearerJson('POST', delegationsUrl(`/${parent.id}/revoke`), adamToken);
    expect((revoked.json as { alsoRevoked: string[] }).alsoRevoked).toEqual([child.id]);
  });

  it('gives Carl a re-delegated token that acts for the owner, with the whole chain in act, and lets it open lock-1 until the first grant ends', async () => {
    const { parent, child } = await chainToCarl();
    const carlsToken = await exchangedToken(carlToken);
    // RFC 8693 §4.1: the subject is the person ultimately acted for (the owner), prior actors nested.
    expect(decodeJwt(carlsToken)).toMatchObject({ sub: adamId, act: { sub: carlId, act: { sub: biancaId } }, gid: child.id });
    const response = await sendCommand(carlsToken);
    expect({ status: response.status, body: response.json }).toMatchObject({ status: 200, body: { actor: { type: 'user', id: carlId }, onBehalfOf: adamId, grantId: child.id } });
    await bearerJson('POST', delegationsUrl(`/${parent.id}/revoke`), adamToken);
    expectRefusedToken(await sendCommand(carlsToken));
  });

  it('lets Bianca decline a grant: its tokens stop at once', async () => {
    const declined = await share(adamToken, shareOfLock());
    const token = await exchangedToken();
    const response = await bearerJson('POST', delegationsUrl(`/${declined.id}/decline`), biancaToken, { reason: 'no bike, thanks' });
    expect(response.json).toMatchObject({ grant: { status: 'declined', reason: 'no bike, thanks' } });
    expectRefusedToken(await sendCommand(token));
  });

  it('lets an administrator (delegations:admin) revoke any grant; a person’s token cannot use the admin route', async () => {
    const grant = await share(adamToken, shareOfLock());
    const token = await exchangedToken();
    expectProblem(await bearerJson('POST', `${issuer}/admin/v1/delegations/${grant.id}/revoke`, adamToken), 403);
    const revoked = await bearerJson('POST', `${issuer}/admin/v1/delegations/${grant.id}/revoke`, serviceToken, { reason: 'abuse report' });
    expect(revoked.json).toMatchObject({ grant: { status: 'revoked', endedBy: { type: 'client', id: 'demo-service' } } });
    expectRefusedToken(await sendCommand(token));
  });
});

describe('across tenants', () => {
  afterEach(revokeAdamsGrants);

  it('makes a delegated token of demo worthless at tenant other, and other’s tokens worthless at demo', async () => {
    const grant = await share(adamToken, shareOfLock());
    const token = await exchangedToken();
    expectRefusedToken(await sendCommand(token, 'unlock', 'lock-1', otherIssuer));
    expectRefusedToken(await sendCommand(otherBiancaToken));
    expectRefusedToken(await bearerJson('GET', delegationsUrl(`/${grant.id}`), otherAdamToken));
    // A demo token is no subject token at other's token endpoint.
    expectOAuthError(await exchangeToken(otherIssuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP }), ['invalid_grant', 'invalid_request']);
  });

  it('does not let Adam of other share demo’s lock-1, nor see demo’s grants', async () => {
    const grant = await share(adamToken, shareOfLock());
    expectProblem(await bearerJson('POST', delegationsUrl('', otherIssuer), otherAdamToken, shareOfLock()), 403);
    expectProblem(await bearerJson('GET', delegationsUrl(`/${grant.id}`, otherIssuer), otherAdamToken), 404);
    expect((await bearerJson('GET', delegationsUrl('?role=delegatee', otherIssuer), otherBiancaToken)).json).toEqual({ items: [], nextCursor: null });
  });
});

// Last: it restarts the delegation service with its clock on Saturday.
describe('constraints checked again at use', () => {
  it('refuses a Monday-to-Friday token got on Tuesday once the delegation service’s clock says Saturday', async () => {
    await share(adamToken, shareOfLock());
    const token = await exchangedToken();
    expect((await sendCommand(token)).status).toBe(200);
    // Same real time, the delegation service four days on: the token (300 s on the real clock) is unexpired
    // and unrevoked, so only the guard's use-time grant check can refuse it.
    await env.platform.stopService('delegation');
    env.platform.startService('delegation', { LATCHKEY_CLOCK_OFFSET_MS: String(clock.offsetMs + 4 * DAY) });
    const back = await timeUntil(async () => (await bearerJson('GET', delegationsUrl('?role=delegator'), adamToken)).status === 200, 30_000, 250);
    expect(back).toBeLessThan(Number.POSITIVE_INFINITY);
    const refused = expectProblem(await sendCommand(token), 401);
    expect(refused).toMatchObject({ detail: 'the delegation no longer allows this', reason: expect.any(String) });
    expectOAuthError(await exchangeToken(issuer, biancaToken, { resource: 'device:lock-1', scope: 'lock:unlock', client: DEMO_APP }), ['invalid_grant']);
  }, 60_000);
});
