// The account page of apps with access, and the authorize step that asks for a sign-in when the token
// service's freshness backstop refuses a session, over HTTP inside one process: the real Fastify app
// and controllers, with a scripted ContractClient in place of NATS (every request the gateway sends is
// parsed with its contract, and the scripted replies with theirs).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseTenants } from '@latchkey/config';
import { BeginAuthorization, CheckConsent, CompleteAuthorization, ContractError, GetSession, ListConsents, type RequestContract, RevokeConsent } from '@latchkey/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { GUARD_SUBJECTS, type ScriptedHandler, ScriptedServices, startScriptedGateway } from '../test/scripted-gateway.js';

const PUBLIC_URL = 'https://id.example';
const ADAM = '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e';
const BIANCA = '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f';
const CARLA = '3e7f2a1b-5c6d-4e8f-9a0b-1c2d3e4f5a6b';
const NOW = Math.floor(Date.now() / 1000);
const LATER = new Date(Date.now() + 3_600_000).toISOString();

const TENANTS = parseTenants(`tenants:
  - id: demo
    displayName: Demo fleet
  - id: other
`);

/** Browser sessions identity knows: the session id (cookie value) → its user, at tenant demo only. */
const SESSIONS: Record<string, { id: string; username: string }> = {
  'session-adam': { id: ADAM, username: 'adam' },
  'session-bianca': { id: BIANCA, username: 'bianca' },
  'session-carla': { id: CARLA, username: 'carla' },
};

const consent = (clientId: string, clientName: string, scopes: string[]) => ({
  clientId,
  clientName,
  scopes,
  grantedAt: '2030-01-02T03:04:05.000Z',
  updatedAt: '2030-01-02T03:04:05.000Z',
  rememberedConsent: true,
  offlineAccess: false,
});
/** An app that holds refresh tokens without a remembered consent: paired through the device grant (RFC 8628). */
const paired = (clientId: string, clientName: string, scopes: string[]) => ({
  ...consent(clientId, clientName, scopes),
  grantedAt: '2030-02-03T04:05:06.000Z',
  rememberedConsent: false,
  offlineAccess: true,
});
/** Each user's apps with access, as the token service lists them. */
const CONSENTS: Record<string, Array<ReturnType<typeof consent>>> = {
  [ADAM]: [consent('demo-web', 'Demo web app', ['openid', 'offline_access']), consent('demo-app', 'Demo mobile app', ['openid', 'lock:unlock'])],
  [BIANCA]: [consent('demo-tv', 'Demo TV', ['openid'])],
  [CARLA]: [paired('demo-tv', 'Demo TV', ['openid', 'devices:read', 'offline_access']), { ...consent('demo-web', 'Demo web app', ['openid', 'offline_access']), rememberedConsent: true, offlineAccess: true }],
};

const services = new ScriptedServices(GUARD_SUBJECTS);
let app: NestFastifyApplication;
let fastify: FastifyInstance;

/** A scripted handler whose reply must satisfy the contract, as the real NATS handler's does. */
const answering = <C extends RequestContract>(contract: C, handler: ScriptedHandler): [string, ScriptedHandler] => [contract.subject, (request) => contract.reply.parse(handler(request))];

beforeAll(async () => {
  ({ app, fastify } = await startScriptedGateway(services, TENANTS, PUBLIC_URL));
});

afterAll(async () => {
  await app?.close();
});

beforeEach(() => {
  services.reset([
    answering(GetSession, ({ tenant, sessionId }) => {
      const user = tenant === 'demo' ? SESSIONS[sessionId as string] : undefined;
      if (!user) return { session: null };
      return { session: { user: { ...user, tenant: 'demo', status: 'active', roles: [] }, amr: ['pwd'], acr: 'urn:latchkey:loa:1', authTime: NOW - 600, expiresAt: LATER, idleExpiresAt: LATER } };
    }),
    answering(ListConsents, ({ userId }) => ({ consents: CONSENTS[userId as string] ?? [] })),
    answering(RevokeConsent, () => ({ revoked: true, refreshFamiliesRevoked: 1 })),
  ]);
});

/** A browser: its cookies (name → value) and the headers of a same-origin form POST. */
class Browser {
  readonly cookies = new Map<string, string>();

  constructor(session?: string) {
    if (session) this.cookies.set('__Host-latchkey-session-demo', session);
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {};
  }

  private keep(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies) this.cookies.set(cookie.name, cookie.value);
    expect(response.statusCode).not.toBe(500);
    return response;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.keep(await fastify.inject({ method: 'GET', url, headers: this.cookieHeader() }));
  }

  async post(url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
    const headers = { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' };
    return this.keep(await fastify.inject({ method: 'POST', url, headers, payload: new URLSearchParams(fields).toString() }));
  }
}

/** The withdraw forms of a page: client id → its hidden fields. */
function withdrawForms(page: string): Map<string, Record<string, string>> {
  const forms = new Map<string, Record<string, string>>();
  for (const [, inner] of page.matchAll(/<form method="post" action="\/t\/demo\/account\/consents">([\s\S]*?)<\/form>/g)) {
    const fields = Object.fromEntries([...inner!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    forms.set(fields.client_id!, fields);
  }
  return forms;
}

const sent = (subject: string) => services.calls.filter((call) => call.subject === subject).map((call) => call.request);

describe('GET /t/{t}/account/consents', () => {
  it('lists the apps the signed-in person allowed, asking only about that person, on a page with the security headers', async () => {
    const page = await new Browser('session-adam').get('/t/demo/account/consents');
    expect(page.statusCode).toBe(200);
    expect(sent(ListConsents.subject)).toEqual([{ tenant: 'demo', userId: ADAM }]);
    expect(page.body).toContain('<h2 id="app-0">Demo web app</h2>');
    expect(page.body).toContain('<h2 id="app-1">Demo mobile app</h2>');
    expect([...withdrawForms(page.body).keys()]).toEqual(['demo-web', 'demo-app']);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'$/);
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('without a session: the sign-in form, which comes back here', async () => {
    const page = await new Browser().get('/t/demo/account/consents');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" action="/t/demo/signin">');
    expect(page.body).toContain('<input type="hidden" name="interaction_id" value="account-consents">');
    expect(sent(ListConsents.subject)).toEqual([]);
  });

  it('keeps the old address working: /consent/revoke sends the browser here, carrying nothing from its query', async () => {
    const answer = await new Browser('session-adam').get('/t/demo/consent/revoke?client_id=%2F%2Fevil.example');
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe('/t/demo/account/consents');
    expect(services.calls).toEqual([]);
  });
});

describe('POST /t/{t}/account/consents (withdraw)', () => {
  it('withdraws the named app of the session\'s user and shows what is left', async () => {
    const browser = new Browser('session-adam');
    const fields = withdrawForms((await browser.get('/t/demo/account/consents')).body).get('demo-web')!;
    const done = await browser.post('/t/demo/account/consents', fields);
    expect(done.statusCode).toBe(200);
    expect(sent(RevokeConsent.subject)).toEqual([{ tenant: 'demo', clientId: 'demo-web', userId: ADAM }]);
    expect(done.body).toContain('<strong>Demo web app</strong> no longer has access to your account.');
    expect([...withdrawForms(done.body).keys()]).toEqual(['demo-app']);
  });

  it('case=should refuse a token issued for another app, a forged token or a cross-site POST, and withdraw nothing', async () => {
    const browser = new Browser('session-adam');
    const forms = withdrawForms((await browser.get('/t/demo/account/consents')).body);
    const web = forms.get('demo-web')!;
    const attempts = [
      { ...web, client_id: 'demo-app' },
      { ...web, csrf_token: `${web.csrf_token!.split('.')[0]}.${'A'.repeat(43)}` },
      { client_id: 'demo-web' },
    ];
    for (const fields of attempts) expect((await browser.post('/t/demo/account/consents', fields)).statusCode).toBe(403);
    const crossSite = await fastify.inject({
      method: 'POST',
      url: '/t/demo/account/consents',
      headers: { cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '), 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
      payload: new URLSearchParams(web).toString(),
    });
    expect(crossSite.statusCode).toBe(403);
    expect(sent(RevokeConsent.subject)).toEqual([]);
  });

  it('case=should not withdraw another user\'s consent: the user is always the session\'s', async () => {
    const bianca = new Browser('session-bianca');
    const biancasPage = await bianca.get('/t/demo/account/consents');
    // Bianca's list is hers: adam's apps are neither shown nor offered.
    expect([...withdrawForms(biancasPage.body).keys()]).toEqual(['demo-tv']);
    expect(biancasPage.body).not.toContain('Demo web app');
    // Adam's genuine form is useless in bianca's browser (tokens are bound to the browser and the app).
    const adamsPage = await new Browser('session-adam').get('/t/demo/account/consents');
    expect((await bianca.post('/t/demo/account/consents', withdrawForms(adamsPage.body).get('demo-web')!)).statusCode).toBe(403);
    expect(sent(RevokeConsent.subject)).toEqual([]);
    // Her own form withdraws her own consent, whoever else allowed the app.
    expect((await bianca.post('/t/demo/account/consents', withdrawForms(biancasPage.body).get('demo-tv')!)).statusCode).toBe(200);
    expect(sent(RevokeConsent.subject)).toEqual([{ tenant: 'demo', clientId: 'demo-tv', userId: BIANCA }]);
  });

  it('case=should answer an app that is not in the person\'s list with "nothing to withdraw", asking nobody to revoke', async () => {
    const browser = new Browser('session-bianca');
    const page = await browser.get('/t/demo/account/consents');
    expect([...withdrawForms(page.body).keys()]).toEqual(['demo-tv']);
    // A genuine token for the app, then the app's consent is gone (withdrawn in another tab).
    CONSENTS[BIANCA] = [];
    try {
      const answer = await browser.post('/t/demo/account/consents', withdrawForms(page.body).get('demo-tv')!);
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toContain('That app had no access to withdraw.');
    } finally {
      CONSENTS[BIANCA] = [consent('demo-tv', 'Demo TV', ['openid'])];
    }
    expect(sent(RevokeConsent.subject)).toEqual([]);
  });

  it('case=should not act across tenants: tenant demo\'s session and token mean nothing at tenant other', async () => {
    const browser = new Browser('session-adam');
    const fields = withdrawForms((await browser.get('/t/demo/account/consents')).body).get('demo-web')!;
    // The browser's tenant-demo cookies go along, as a browser would send them (the __Host- names carry the tenant).
    expect((await browser.post('/t/other/account/consents', fields)).statusCode).toBe(403);
    const otherPage = await browser.get('/t/other/account/consents');
    expect(otherPage.body).toContain('<form method="post" action="/t/other/signin">');
    expect(sent(RevokeConsent.subject)).toEqual([]);
    expect(sent(ListConsents.subject)).toEqual([{ tenant: 'demo', userId: ADAM }]);
  });

  it('without a session (ended while the page was open): the sign-in form, and nothing withdrawn', async () => {
    const browser = new Browser('session-adam');
    const fields = withdrawForms((await browser.get('/t/demo/account/consents')).body).get('demo-web')!;
    browser.cookies.set('__Host-latchkey-session-demo', 'session-ended');
    const answer = await browser.post('/t/demo/account/consents', fields);
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('<input type="hidden" name="interaction_id" value="account-consents">');
    expect(sent(RevokeConsent.subject)).toEqual([]);
  });
});

describe('apps paired with a code (device grant): listed and withdrawn like the others', () => {
  it('says how each app was allowed: paired with a code, or when signing in to it', async () => {
    const page = await new Browser('session-carla').get('/t/demo/account/consents');
    expect(page.statusCode).toBe(200);
    expect(sent(ListConsents.subject)).toEqual([{ tenant: 'demo', userId: CARLA }]);
    expect(page.body).toContain('<h2 id="app-0">Demo TV</h2>\n<p class="muted">Paired with a code since <time datetime="2030-02-03T04:05:06.000Z">3 February 2030</time>. It may:</p>');
    expect(page.body).toContain('<li>See your devices and their status<small>devices:read</small></li>');
    expect(page.body).toContain('<h2 id="app-1">Demo web app</h2>\n<p class="muted">Allowed since <time datetime="2030-01-02T03:04:05.000Z">2 January 2030</time>, when you signed in to it. It may:</p>');
    expect([...withdrawForms(page.body).keys()]).toEqual(['demo-tv', 'demo-web']);
    // An entry of a token service that listed remembered consents only is one allowed when signing in.
    const adams = await new Browser('session-adam').get('/t/demo/account/consents');
    expect(adams.body).toContain('Allowed since <time datetime="2030-01-02T03:04:05.000Z">2 January 2030</time>, when you signed in to it.');
    expect(adams.body).not.toContain('Paired with a code');
  });

  it('withdraws a paired app: revoke-consent for the session\'s user, which ends its refresh tokens', async () => {
    const browser = new Browser('session-carla');
    const fields = withdrawForms((await browser.get('/t/demo/account/consents')).body).get('demo-tv')!;
    services.handlers.set(RevokeConsent.subject, (request) => RevokeConsent.reply.parse({ revoked: false, refreshFamiliesRevoked: request.clientId === 'demo-tv' ? 2 : 0 }));
    const done = await browser.post('/t/demo/account/consents', fields);
    expect(done.statusCode).toBe(200);
    expect(sent(RevokeConsent.subject)).toEqual([{ tenant: 'demo', clientId: 'demo-tv', userId: CARLA }]);
    expect(done.body).toContain('<strong>Demo TV</strong> no longer has access to your account.');
    expect([...withdrawForms(done.body).keys()]).toEqual(['demo-web']);
  });

  it('case=should refuse, on both sides of the contract, an entry that holds neither a consent nor refresh tokens', () => {
    const empty = { ...consent('demo-tv', 'Demo TV', ['openid']), rememberedConsent: false, offlineAccess: false };
    expect(ListConsents.reply.safeParse({ consents: [empty] }).success).toBe(false);
    expect(ListConsents.reply.safeParse({ consents: [{ ...empty, offlineAccess: true }] }).success).toBe(true);
  });
});

describe('the consent page links to the account page', () => {
  it('"you can withdraw access at any time" goes to /account/consents', async () => {
    services.handlers.set(BeginAuthorization.subject, () => interaction({}));
    services.handlers.set(CheckConsent.subject, () => ({ granted: false, missing: ['openid'] }));
    const page = await new Browser('session-adam').get('/t/demo/oauth2/authorize?client_id=demo-web');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('you can <a href="/t/demo/account/consents">withdraw access at any time</a>');
  });
});

function interaction(overrides: Record<string, unknown>) {
  return BeginAuthorization.reply.parse({
    outcome: 'interaction',
    interactionId: 'interaction-1',
    clientId: 'demo-web',
    clientName: 'Demo web app',
    scopes: ['openid'],
    prompt: [],
    redirectUri: 'https://app.example/callback',
    expiresAt: LATER,
    ...overrides,
  });
}

describe('authorize with a session the token service finds stale (OIDC Core §3.1.2.1 backstop)', () => {
  // The gateway's check passes (the session is 600 s old, max_age is 3600) and the scripted token
  // service refuses the approval, as it does when a second boundary passes between the two checks
  // of a session right at max_age. That is a sign-in to ask for, not an error page.
  beforeEach(() => {
    services.handlers.set(CheckConsent.subject, () => ({ granted: true, missing: [] }));
    services.handlers.set(CompleteAuthorization.subject, ({ decision, error }) => {
      if (decision === 'approve') throw new ContractError('invalid_request', 'authentication is older than max_age: re-authenticate');
      return { location: `https://app.example/callback?error=${String(error)}` };
    });
  });

  it('case=should show the sign-in form instead of an error page', async () => {
    services.handlers.set(BeginAuthorization.subject, () => interaction({ maxAge: 3600 }));
    const page = await new Browser('session-adam').get('/t/demo/oauth2/authorize?client_id=demo-web&max_age=3600');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="password"');
  });

  it('case=should end prompt=none with login_required at the client', async () => {
    services.handlers.set(BeginAuthorization.subject, () => interaction({ maxAge: 3600, prompt: ['none'] }));
    const answer = await new Browser('session-adam').get('/t/demo/oauth2/authorize?client_id=demo-web&max_age=3600&prompt=none');
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe('https://app.example/callback?error=login_required');
  });
});
