// The "people and apps" part of `npm run bench` (Latchkey only): authorization-code exchanges,
// rotating refresh-token chains and password logins, driven over plain HTTP the way a browser and an
// app would (cookie jar, CSRF fields, manual redirects; see tests/e2e/support/http-browser.ts).
//
// Every phase first checks that one request of its kind works and stops with a message naming the step
// when the flow has changed. Only the measured requests are timed: signing in, granting consent,
// minting codes and preparing login interactions happen before each timed phase.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const WEB = { id: 'demo-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const USER = { username: 'adam', password: 'adam-password' };
/**
 * Logins alternate between the two users of the dev tenants file, each worker from its own loopback
 * address (127.0.0.10, .11, ...): the throttle counts an attempt in flight as a failure until it succeeds
 * (libs/identity/src/login/throttle-rules.ts `reserve`), so a 6th parallel attempt on one account — or a
 * 51st from one address — is refused and LOCKS the key for 15 min, even with the right password.
 */
const LOGIN_USERS = [USER, { username: 'bianca', password: 'bianca-password' }];
const MAX_LOGINS_IN_FLIGHT_PER_ACCOUNT = 4;
export const MAX_LOGIN_CONNECTIONS = MAX_LOGINS_IN_FLIGHT_PER_ACCOUNT * LOGIN_USERS.length;
const SCOPE = 'openid offline_access';
const CODE_LIFETIME_MS = 60_000;
/** Codes are minted in batches that start being exchanged well before the first code of a batch expires. */
const MINT_BATCH_MS = 25_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Login failures count against the account (5 in 15 min lock it): stop the login phase long before. */
const MAX_LOGIN_FAILURES = 3;

export class FlowChanged extends Error {
  constructor(step, message) {
    super(`user flows, ${step}: ${message} (did the authorization-code / login flow change? see docs/adr/0012, 0013 and bench/user-flows.mjs)`);
  }
}

// ---- a tiny HTTP client: keep-alive, manual redirects, response headers and body ---------------------
export function client(maxSockets, localAddress) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, ...(localAddress ? { localAddress } : {}) });
  const request = (url, { method = 'GET', headers = {}, body } = {}) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) }, agent }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  return { request, close: () => agent.destroy() };
}

/** Cookies of one browser (one host). */
export class Jar {
  cookies = new Map();
  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  remember(response) {
    for (const line of response.headers['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (/max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  }
}

/** The action and hidden fields of the first form of a page (as tests/e2e/support/http-browser.ts). */
function formOf(page, step) {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new FlowChanged(step, `no <form method="post"> in the page: ${page.slice(0, 300)}`);
  const fields = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]] = decode(match[2]);
  return { action: decode(action), fields };
}

function decode(text) {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function summary(name, latencies, errors, seconds, extra = {}) {
  const sorted = Float64Array.from(latencies).sort();
  return { name, ok: latencies.length, perSecond: latencies.length / seconds, seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), errors, ...extra };
}

/** Counts error responses by status and keeps the first body of each, for the report. */
export class Errors {
  count = 0;
  byStatus = new Map();
  samples = new Map();
  add(status, text) {
    this.count += 1;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (!this.samples.has(status)) this.samples.set(status, String(text).slice(0, 200).replace(/\s+/g, ' '));
  }
  toString() {
    return [...this.byStatus].map(([status, n]) => `${n} x ${status}: ${this.samples.get(status)}`).join('; ');
  }
}

/** `workers` loops pulling from `next()` until it returns undefined. */
async function pool(workers, next, work) {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let item = next(); item !== undefined; item = next()) await work(item);
    }),
  );
}

/** `GET /authorize` of the authorization-code flow with PKCE (S256) for `app` ({ id, redirectUri }). */
export function authorizeUrlFor(issuer, app, scope, challenge) {
  return `${issuer}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.id, redirect_uri: app.redirectUri, scope, state: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256' })}`;
}

/** The code of a redirect to the client, undefined for any other location, or a FlowChanged naming `step`. */
export function codeFromRedirect(location, redirectUri, step) {
  if (!location?.startsWith(redirectUri)) return undefined;
  const params = new URL(location).searchParams;
  if (params.get('error')) throw new FlowChanged(step, `the client got error=${params.get('error')} (${params.get('error_description') ?? ''})`);
  const code = params.get('code');
  if (!code) throw new FlowChanged(step, `redirect to the client without a code: ${location}`);
  return code;
}

/**
 * Signs `user` in as a browser does — `/authorize`, the login form, the consent form (allow) — until the
 * redirect to `app` with a code. `http` is a `client(...)`; returns the browser's cookie jar, the code,
 * its PKCE verifier and the steps seen.
 */
export async function signInThroughForms({ http: web, issuer, app, scope, user }) {
  const origin = new URL(issuer).origin;
  const get = async (jar, url) => jar.remember(await web.request(url, { headers: jar.cookies.size ? { cookie: jar.header() } : {} }));
  const postPage = async (jar, action, fields) =>
    jar.remember(
      await web.request(new URL(action, origin).href, {
        method: 'POST',
        headers: { origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        body: new URLSearchParams(fields).toString(),
      }),
    );
  const jar = new Jar();
  const request = pkce();
  let response = await get(jar, authorizeUrlFor(issuer, app, scope, request.challenge));
  const seen = [];
  for (let step = 0; step < 8; step += 1) {
    const code = codeFromRedirect(response.headers.location, app.redirectUri, `signing in as ${user.username}`);
    if (code !== undefined) {
      if (![...jar.cookies.keys()].some((name) => name.includes('session'))) throw new FlowChanged('signing in', `no session cookie after signing in (cookies: ${[...jar.cookies.keys()].join(', ')})`);
      return { jar, code, verifier: request.verifier, seen };
    }
    if (response.headers.location) {
      seen.push(`${response.status} ${response.headers.location.split('?')[0].replace(origin, '')}`);
      response = await get(jar, new URL(response.headers.location, origin).href);
      continue;
    }
    const where = `signing in as ${user.username}`;
    if (response.status !== 200) throw new FlowChanged(where, `${seen.join(', ')} then ${response.status}: ${response.text.slice(0, 300)}`);
    if (response.text.includes('name="otp"')) throw new FlowChanged(where, `${user.username} is asked for a one-time code: the bench signs in with a password only`);
    if (response.text.includes('name="password"')) {
      if (seen.includes('login form')) throw new FlowChanged(where, `the login form came back after posting ${user.username}'s password (wrong password, account locked?)`);
      seen.push('login form');
      const form = formOf(response.text, 'login page');
      response = await postPage(jar, form.action, { ...form.fields, username: user.username, password: user.password });
    } else if (response.text.includes('value="allow"')) {
      seen.push('consent form (allow)');
      const form = formOf(response.text, 'consent page');
      response = await postPage(jar, form.action, { ...form.fields, decision: 'allow' });
    } else {
      throw new FlowChanged(where, `unexpected page after ${seen.join(', ')}: ${response.text.slice(0, 300)}`);
    }
  }
  throw new FlowChanged(`signing in as ${user.username}`, `no redirect to the client after ${seen.join(', ')}`);
}

/** The argon2id parameters of the code defaults, and of adam's stored hash (what verification uses). */
export async function argon2Parameters(repoRoot, databaseUrl) {
  const file = 'libs/identity/src/users/password-hasher.ts';
  const source = readFileSync(join(repoRoot, file), 'utf8');
  const body = /DEFAULT_PASSWORD_HASHING[^=]*=\s*\{([^}]*)\}/.exec(source)?.[1] ?? '';
  const value = (name) => /\d[\d_]*/.exec(new RegExp(`${name}\\s*:\\s*([\\d_]+)`).exec(body)?.[1] ?? '')?.[0]?.replace(/_/g, '');
  const defaults = { memoryCost: value('memoryCost'), timeCost: value('timeCost'), parallelism: value('parallelism') };
  // The identity service takes its cost from PASSWORD_HASH_* when set (libs/config IdentityServiceEnv).
  const overridden = ['PASSWORD_HASH_MEMORY_KIB', 'PASSWORD_HASH_ITERATIONS', 'PASSWORD_HASH_PARALLELISM'].some((name) => process.env[name]);
  let stored;
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    await db.connect();
    const { rows } = await db.query(`SELECT password_hash FROM identity."user" WHERE tenant = 'demo' AND username = $1`, [USER.username]);
    const match = /^\$(argon2\w+)\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(rows[0]?.password_hash ?? '');
    stored = match ? { algorithm: match[1], memoryCost: match[2], timeCost: match[3], parallelism: match[4] } : undefined;
  } catch {
    stored = undefined;
  } finally {
    await db.end().catch(() => {});
  }
  return { file, defaults, overridden, stored };
}

/**
 * Runs the three user-flow phases against `issuer` and returns their figures. `cpu.snapshot()` and
 * `cpu.since(snapshot)` measure the CPU of every process (and of other work) over each timed phase.
 */
export async function runUserFlows({ issuer, codes, connections, duration, loginConnections, log, cpu }) {
  const origin = new URL(issuer).origin;
  const tokenUrl = `${issuer}/oauth2/token`;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(WEB.id)}:${encodeURIComponent(WEB.secret)}`).toString('base64')}`;
  const http1 = client(Math.max(connections, loginConnections, 16));
  const sameOrigin = { origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' };

  const authorizeUrl = (challenge) => authorizeUrlFor(issuer, WEB, SCOPE, challenge);
  const get = async (jar, url) => jar.remember(await http1.request(url, { headers: jar.cookies.size ? { cookie: jar.header() } : {} }));
  const token = (fields) => http1.request(tokenUrl, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const exchange = (code, verifier) => token({ grant_type: 'authorization_code', code, redirect_uri: WEB.redirectUri, code_verifier: verifier });
  const refresh = (refreshToken) => token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  /** The code of a redirect to the client, or a FlowChanged naming `step`. */
  const codeOf = (location, step) => codeFromRedirect(location, WEB.redirectUri, step);
  const tokenJson = (response, step) => {
    if (response.status !== 200) throw new FlowChanged(step, `POST /oauth2/token answered ${response.status}: ${response.text.slice(0, 300)}`);
    const json = JSON.parse(response.text);
    if (!json.access_token) throw new FlowChanged(step, `no access_token in ${response.text.slice(0, 300)}`);
    if (!json.refresh_token) throw new FlowChanged(step, `no refresh_token although the scope had offline_access (demo-web must have the refresh_token grant and offline_access): ${response.text.slice(0, 300)}`);
    return json;
  };

  try {
    // ---- 1. sign in once per user (login form, consent form), as a browser does ----------------------
    const signIn = (user) => signInThroughForms({ http: http1, issuer, app: WEB, scope: SCOPE, user });
    const signedIn = await signIn(USER);
    for (const other of LOGIN_USERS.slice(1)) await signIn(other); // their consent too: every login POST ends at the client
    const browser = signedIn.jar;
    const { code, seen } = signedIn;
    let first = signedIn;
    const probe = tokenJson(await exchange(code, first.verifier), 'probe exchange of the first code');
    const probeRefresh = tokenJson(await refresh(probe.refresh_token), 'probe refresh');
    if (probeRefresh.refresh_token === probe.refresh_token) throw new FlowChanged('probe refresh', 'the refresh token did not rotate');
    // Remembered consent + session: /authorize answers with a code at once.
    first = pkce();
    const again = await get(browser, authorizeUrl(first.challenge));
    if (!(again.status >= 300 && again.status < 400) || codeOf(again.headers.location, 'minting a code') === undefined) {
      throw new FlowChanged('minting a code', `GET /authorize with the session cookie and remembered consent answered ${again.status} ${again.headers.location ?? again.text.slice(0, 300)} (expected a redirect with a code)`);
    }
    tokenJson(await exchange(codeOf(again.headers.location, 'minting a code'), first.verifier), 'probe exchange of a minted code');
    log(`[bench] user flows: signed in as ${USER.username} through the forms (${seen.join(', ')}), consent for ${WEB.id} (${SCOPE}); probe exchange and refresh: 200`);

    // ---- 2. authorization_code exchanges: codes minted before each timed batch ---------------------
    const exchangeLatencies = [];
    const exchangeErrors = new Errors();
    const refreshTokens = [];
    let exchangeSeconds = 0;
    let mintSeconds = 0;
    let batches = 0;
    const exchangeCpu = [];
    for (let remaining = codes; remaining > 0; ) {
      const batch = [];
      const mintStart = performance.now();
      let mintFailure;
      let issued = 0;
      await pool(
        16,
        () => (!mintFailure && issued < remaining && performance.now() - mintStart < MINT_BATCH_MS ? (issued += 1) : undefined),
        async () => {
          const { verifier, challenge } = pkce();
          const minted = await http1.request(authorizeUrl(challenge), { headers: { cookie: browser.header() } });
          const mintedCode = minted.status >= 300 && minted.status < 400 ? codeOf(minted.headers.location, 'minting codes') : undefined;
          if (mintedCode === undefined) mintFailure ??= new FlowChanged('minting codes', `GET /authorize answered ${minted.status} ${minted.headers.location ?? minted.text.slice(0, 200)}`);
          else batch.push({ code: mintedCode, verifier, at: performance.now() });
        },
      );
      if (mintFailure) throw mintFailure;
      if (!batch.length) throw new FlowChanged('minting codes', `no code minted within ${MINT_BATCH_MS / 1000} s`);
      mintSeconds += (performance.now() - mintStart) / 1000;
      remaining -= batch.length;
      batches += 1;
      if (batch[0] && performance.now() - batch[0].at > CODE_LIFETIME_MS - 20_000) log(`[bench] user flows: warning: the oldest code of batch ${batches} is ${((performance.now() - batch[0].at) / 1000).toFixed(0)} s old`);
      let index = 0;
      const before = cpu.snapshot();
      const start = performance.now();
      await pool(
        connections,
        () => (index < batch.length ? batch[index++] : undefined),
        async ({ code: batchCode, verifier }) => {
          const t0 = performance.now();
          let answer;
          try {
            answer = await exchange(batchCode, verifier);
          } catch (error) {
            exchangeErrors.add('socket', error.message);
            return;
          }
          const ms = performance.now() - t0;
          if (answer.status !== 200) return exchangeErrors.add(answer.status, answer.text);
          const rt = /"refresh_token"\s*:\s*"([^"]+)"/.exec(answer.text)?.[1];
          if (!rt) return exchangeErrors.add('200 without refresh_token', answer.text);
          exchangeLatencies.push(ms);
          refreshTokens.push(rt);
        },
      );
      exchangeSeconds += (performance.now() - start) / 1000;
      exchangeCpu.push(cpu.since(before));
    }
    const exchanged = summary('authorization_code exchange', exchangeLatencies, exchangeErrors, exchangeSeconds, {
      short: 'code exchange',
      inFlight: connections,
      cpu: sumCpu(exchangeCpu),
      note: `${codes} codes, PKCE S256, ${batches} batch${batches > 1 ? 'es' : ''}; minting took ${mintSeconds.toFixed(1)} s (${(codes / mintSeconds).toFixed(0)} codes/s, not timed)`,
      errorDetail: exchangeErrors.toString(),
    });
    log(`[bench] user flows: ${codes} codes minted in ${mintSeconds.toFixed(1)} s (not timed), exchanged in ${exchangeSeconds.toFixed(1)} s with ${connections} in flight`);

    // ---- 3. refresh_token: independent rotating chains -----------------------------------------------
    const chains = Math.min(connections, refreshTokens.length);
    if (chains === 0) throw new FlowChanged('refresh chains', 'no refresh token came out of the exchanges');
    const spares = refreshTokens.slice(chains);
    const refreshLatencies = [];
    const refreshErrors = new Errors();
    let brokenChains = 0;
    log(`[bench] user flows: refresh_token, ${chains} rotating chains for ${duration} s`);
    const refreshBefore = cpu.snapshot();
    const refreshStart = performance.now();
    const refreshDeadline = refreshStart + duration * 1000;
    await Promise.all(
      refreshTokens.slice(0, chains).map(async (initial) => {
        let current = initial;
        while (current && performance.now() < refreshDeadline) {
          const t0 = performance.now();
          let answer;
          try {
            answer = await refresh(current);
          } catch (error) {
            answer = { status: 'socket', text: error.message };
          }
          const ms = performance.now() - t0;
          const next = answer.status === 200 ? /"refresh_token"\s*:\s*"([^"]+)"/.exec(answer.text)?.[1] : undefined;
          if (next && next !== current) {
            refreshLatencies.push(ms);
            current = next;
          } else {
            refreshErrors.add(answer.status === 200 ? '200 without a new refresh_token' : answer.status, answer.text);
            brokenChains += 1;
            current = spares.pop(); // the chain is broken (its token may be spent): go on with a fresh family
          }
        }
      }),
    );
    const refreshSeconds = (performance.now() - refreshStart) / 1000;
    const refreshed = summary('refresh_token (rotating)', refreshLatencies, refreshErrors, refreshSeconds, {
      short: 'refresh',
      inFlight: chains,
      cpu: cpu.since(refreshBefore),
      note: `${chains} chains of sequential refreshes, ${duration} s${brokenChains ? `, ${brokenChains} chains broken and restarted` : ''}`,
      errorDetail: refreshErrors.toString(),
    });

    // ---- 4. logins: fresh interaction + CSRF per login, prepared before the timed phase --------------
    // Worker i signs in as LOGIN_USERS[i % n] from 127.0.0.(10 + i): see LOGIN_USERS.
    if (loginConnections > MAX_LOGINS_IN_FLIGHT_PER_ACCOUNT * LOGIN_USERS.length) {
      throw new Error(`--login-connections ${loginConnections}: at most ${MAX_LOGINS_IN_FLIGHT_PER_ACCOUNT * LOGIN_USERS.length} (${MAX_LOGINS_IN_FLIGHT_PER_ACCOUNT} per account; a 6th login in flight on one account locks it)`);
    }
    const prepareOne = async (user) => {
      const jar = new Jar();
      const page = await get(jar, authorizeUrl(pkce().challenge));
      if (page.status !== 200 || !page.text.includes('name="password"')) throw new FlowChanged('preparing a login', `GET /authorize without a session answered ${page.status} ${page.headers.location ?? page.text.slice(0, 200)} (expected the login page)`);
      const form = formOf(page.text, 'login page');
      return { action: new URL(form.action, origin).href, body: new URLSearchParams({ ...form.fields, username: user.username, password: user.password }).toString(), cookie: jar.header() };
    };
    const loginClients = Array.from({ length: loginConnections }, (_, i) => client(1, `127.0.0.${10 + i}`));
    const postLogin = async (worker, prepared) => {
      const t0 = performance.now();
      const answer = await loginClients[worker].request(prepared.action, { method: 'POST', headers: { ...sameOrigin, cookie: prepared.cookie }, body: prepared.body });
      const ms = performance.now() - t0;
      const session = (answer.headers['set-cookie'] ?? []).some((line) => /^[^=]*session[^=]*=[^;]+/.test(line));
      return { ok: answer.status === 303 && session && codeOf(answer.headers.location, 'login') !== undefined, ms, answer };
    };
    let loggedIn;
    try {
      let probeMs = 0;
      for (const [i, user] of LOGIN_USERS.entries()) {
        const probeLogin = await postLogin(i % loginConnections, await prepareOne(user));
        if (!probeLogin.ok) throw new FlowChanged(`probe login as ${user.username}`, `POST login answered ${probeLogin.answer.status} ${probeLogin.answer.headers.location ?? probeLogin.answer.text.replace(/<[^>]+>/g, ' ').slice(0, 300)} (expected 303 to the client with a code, and a session cookie)`);
        probeMs = Math.max(probeMs, probeLogin.ms);
      }
      // As many interactions as the workers could use at the probe's latency, plus a margin.
      // The probe is a cold, lone request: the margin is wide, and a worker whose queue is empty takes from another
      // worker's queue of the same user. Preparing costs about 2 ms an interaction.
      const perWorker = Math.min(1000, Math.max(50, Math.ceil(((duration * 1000) / Math.max(probeMs, 5)) * 3)));
      const queues = Array.from({ length: loginConnections }, () => []);
      const jobs = queues.flatMap((queue, worker) => Array.from({ length: perWorker }, () => ({ queue, user: LOGIN_USERS[worker % LOGIN_USERS.length] })));
      const prepareStart = performance.now();
      let taken = 0;
      await pool(16, () => (taken < jobs.length ? jobs[taken++] : undefined), async ({ queue, user }) => queue.push(await prepareOne(user)));
      log(`[bench] user flows: ${jobs.length} login interactions prepared in ${((performance.now() - prepareStart) / 1000).toFixed(1)} s (not timed); logins for ${duration} s, ${loginConnections} in flight`);
      const loginLatencies = [];
      const loginErrors = new Errors();
      let stoppedForFailures = false;
      let ranOut = false;
      const loginBefore = cpu.snapshot();
      const loginStart = performance.now();
      const loginDeadline = loginStart + duration * 1000;
      await Promise.all(
        queues.map(async (queue, worker) => {
          while (performance.now() < loginDeadline && !stoppedForFailures) {
            const item = queue.pop() ?? queues.find((other, i) => i % LOGIN_USERS.length === worker % LOGIN_USERS.length && other.length)?.pop();
            if (!item) {
              ranOut = true;
              return;
            }
            let result;
            try {
              result = await postLogin(worker, item);
            } catch (error) {
              loginErrors.add('socket', error.message);
              continue;
            }
            if (result.ok) loginLatencies.push(result.ms);
            else {
              loginErrors.add(result.answer.status, result.answer.headers.location ?? result.answer.text.replace(/<style[\s\S]*?<\/style>/g, ' ').replace(/<[^>]+>/g, ' '));
              if (loginErrors.count >= MAX_LOGIN_FAILURES) stoppedForFailures = true;
            }
          }
        }),
      );
      const loginSeconds = (performance.now() - loginStart) / 1000;
      loggedIn = summary('login POST (password)', loginLatencies, loginErrors, loginSeconds, {
        short: 'login',
        inFlight: loginConnections,
        cpu: cpu.since(loginBefore),
        note:
          `${LOGIN_USERS.map((u) => u.username).join(' + ')}, fresh interaction + CSRF token each, 303 to the client with a code, ${duration} s` +
          `${ranOut ? ' (a worker RAN OUT of prepared interactions)' : ''}${stoppedForFailures ? ` (STOPPED after ${MAX_LOGIN_FAILURES} failures so the accounts do not lock)` : ''}`,
        errorDetail: loginErrors.toString(),
      });
    } finally {
      for (const c of loginClients) c.close();
    }
    return [exchanged, refreshed, loggedIn];
  } finally {
    http1.close();
  }
}

function sumCpu(maps) {
  const total = new Map();
  for (const map of maps) for (const [role, value] of map) total.set(role, (total.get(role) ?? 0) + value);
  return total;
}
