// The "delegation" part of `npm run bench` (Latchkey only), driven over HTTP as people and their app
// would (ARCHITECTURE flow 4, docs/adr/0021):
//   1. adam and bianca sign in to demo-app (a public client: PKCE, no secret) through the login and
//      consent forms, and redeem their codes;
//   2. adam shares his lock with bianca: `POST /t/demo/v1/delegations` with his access token;
//   3. bianca's app exchanges her access token for a delegated one, again and again (RFC 8693 token
//      exchange is not single use: the same request body every time), under autocannon.
// Steps 1 and 2 are set-up, not timed; the exchange is probed once and its claims checked first.
import autocannon from 'autocannon';
import { client, FlowChanged, signInThroughForms } from './user-flows.mjs';

const APP = { id: 'demo-app', redirectUri: 'http://127.0.0.1:8765/callback' };
/** Adam needs `delegations:write` to share (the gateway's delegations API); Bianca only her own token. */
const USERS = {
  adam: { username: 'adam', password: 'adam-password', scope: 'openid delegations:write' },
  bianca: { username: 'bianca', password: 'bianca-password', scope: 'openid lock:unlock delegations' },
};
const RESOURCE = 'device:lock-1';
const SHARED_SCOPES = ['lock:unlock'];
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const WARMUP_SECONDS = 2;

class BenchStepFailed extends Error {
  constructor(step, message) {
    super(`delegation flows, ${step}: ${message} (did the delegation API or token exchange change? see docs/adr/0021 and bench/delegation-flows.mjs)`);
  }
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));

function parse(response, step) {
  let body;
  try {
    body = response.text ? JSON.parse(response.text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.status < 200 || response.status >= 300) throw new BenchStepFailed(step, `answered ${response.status}: ${response.text.slice(0, 300)}`);
  return body;
}

/** autocannon with one fixed request. */
function load(url, body, { connections, duration }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections, duration, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('error', () => {});
  });
}

/**
 * Runs the delegation phases on a running platform and returns the token-exchange figures for the
 * report. `cpu` is the bench's CPU accounting (`snapshot()`, `since(snapshot)`), `log` its logger.
 */
export async function runDelegationFlows({ issuer, connections = 50, duration = 10, cpu, log }) {
  const tokenUrl = `${issuer}/oauth2/token`;
  const http = client(8);
  const post = (url, body, headers = {}) => http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  try {
    // ---- 1. adam and bianca sign in to demo-app --------------------------------------------------------
    const tokens = {};
    for (const [name, user] of Object.entries(USERS)) {
      const signedIn = await signInThroughForms({ http, issuer, app: APP, scope: user.scope, user });
      const redeemed = parse(
        await post(tokenUrl, new URLSearchParams({ grant_type: 'authorization_code', client_id: APP.id, code: signedIn.code, redirect_uri: APP.redirectUri, code_verifier: signedIn.verifier }).toString()),
        `redeeming ${name}'s code at POST /oauth2/token (demo-app, PKCE)`,
      );
      if (!redeemed?.access_token) throw new FlowChanged(`redeeming ${name}'s code`, `no access_token in the answer`);
      tokens[name] = { accessToken: redeemed.access_token, sub: claimsOf(redeemed.access_token).sub, seen: signedIn.seen };
    }
    log(`[bench] delegation flows: adam and bianca signed in to ${APP.id} through the forms (${tokens.bianca.seen.join(', ')})`);

    // ---- 2. adam shares lock-1 with bianca (CreateGrant's fields minus tenant and actor) ----------------
    const grantRequest = {
      delegatee: { type: 'user', username: USERS.bianca.username },
      resource: RESOURCE,
      scopes: SHARED_SCOPES,
      expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
    };
    const created = parse(
      await http.request(`${issuer}/v1/delegations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.adam.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(grantRequest),
      }),
      `adam creating a grant (POST ${issuer}/v1/delegations)`,
    );
    const grantId = created?.grant?.id ?? created?.id;
    if (typeof grantId !== 'string') throw new BenchStepFailed('creating a grant', `no grant id in ${JSON.stringify(created).slice(0, 300)}`);
    log(`[bench] delegation flows: adam shared ${RESOURCE} (${SHARED_SCOPES.join(' ')}) with bianca: grant ${grantId}`);

    // ---- 3. token exchange: bianca's token for one acting for adam ------------------------------------
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE,
      client_id: APP.id,
      subject_token: tokens.bianca.accessToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: RESOURCE,
      scope: SHARED_SCOPES.join(' '),
    }).toString();
    const probe = parse(await post(tokenUrl, body), 'probe token exchange');
    const claims = probe?.access_token ? claimsOf(probe.access_token) : {};
    if (probe?.issued_token_type !== ACCESS_TOKEN_TYPE || claims.sub !== tokens.adam.sub || claims.act?.sub !== tokens.bianca.sub || claims.gid !== grantId || claims.aud !== RESOURCE) {
      throw new BenchStepFailed('probe token exchange', `expected sub = adam, act.sub = bianca, gid = the grant, aud = ${RESOURCE}; got ${JSON.stringify({ ...probe, access_token: undefined, claims })}`);
    }
    log(`[bench] delegation flows: probe exchange 200: sub = adam, act.sub = bianca, gid = the grant, scope "${probe.scope}", expires_in ${probe.expires_in}`);

    log(`[bench] token exchange: warm-up ${WARMUP_SECONDS} s, then load ${duration} s, ${connections} connections`);
    await load(tokenUrl, body, { connections, duration: WARMUP_SECONDS });
    const before = cpu.snapshot();
    const result = await load(tokenUrl, body, { connections, duration });
    const spent = cpu.since(before);
    return {
      grantId,
      exchange: {
        perSecond: result['2xx'] / result.duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.non2xx + result.errors + result.timeouts,
        errorDetail: `non-2xx ${result.non2xx}, socket errors ${result.errors}, timeouts ${result.timeouts}; status codes ${JSON.stringify(result.statusCodeStats)}`,
        ok: result['2xx'],
        cpu: spent,
      },
    };
  } finally {
    http.close();
  }
}
