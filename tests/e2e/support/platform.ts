// Typed access to tools/infra/platform.mjs for the end-to-end tests, and the helpers every e2e file
// shares: one fresh database and one distributed platform per test file, and an HTTP helper that
// checks the invariants every response must keep (never a 500, never a stack trace).
import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PlatformOptions {
  databaseUrl: string;
  natsUrl: string;
  log?: 'inherit' | 'ignore' | 'prefix';
  tenantsFile?: string;
  port?: number;
  publicUrl?: string;
  kek?: string;
  readyTimeoutMs?: number;
  /** Environment of every service. */
  env?: Record<string, string>;
  /** Environment of one service only, by service name (e.g. `{ delegation: { LATCHKEY_CLOCK_OFFSET_MS: '3600000' } }`). */
  serviceEnv?: ServiceEnv;
}

export type ServiceName = 'identity' | 'token' | 'delegation' | 'device-registry' | 'policy' | 'gateway';
export type ServiceEnv = Partial<Record<ServiceName, Record<string, string>>>;

export interface Platform {
  url: string;
  issuer(tenant?: string): string;
  databaseUrl: string;
  natsUrl: string;
  processes: Map<string, ChildProcess>;
  /** (Re)starts a service; `extraEnv` wins over its `serviceEnv` (e.g. a restart with another clock offset). */
  startService(name: string, extraEnv?: Record<string, string>): ChildProcess;
  /** Stops the service's process (SIGKILL after 10 s) and tells how it ended. */
  stopService(name: string, signal?: NodeJS.Signals): Promise<StopResult>;
  /**
   * Runs one more process of a service, in its NATS queue group: a backend replica with its own probe
   * server (HEALTH_PORT), a gateway replica on its own HTTP port (same PUBLIC_URL). `stop()` stops it too.
   */
  startReplica(name: ServiceName, extraEnv?: Record<string, string>): Promise<Replica>;
  waitForReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** How a stopped process ended; `killed`: it did not exit by itself and needed the SIGKILL. */
export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  elapsedMs: number;
  killed: boolean;
}

export interface Replica {
  name: ServiceName;
  process: ChildProcess;
  pid: number | undefined;
  /** The gateway replica's HTTP base URL; another service's probe server (/healthz, /readyz, /metrics). */
  url: string;
  /** Resolves once its /readyz answers 200. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends the signal (SIGTERM by default), waits for the exit; SIGKILL after `killAfterMs` (10 s). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<StopResult>;
}

interface PlatformModule {
  startPlatform(options: PlatformOptions): Promise<Platform>;
  createDatabase(adminUrl: string, name?: string): Promise<{ url: string; name: string }>;
  dropDatabase(adminUrl: string, name: string): Promise<void>;
}

interface LocalInfraModule {
  startNats(options?: { port?: number }): Promise<{ url: string; port: number; stop(): Promise<void> }>;
}

// Computed specifiers: the .mjs helpers have no type declarations, the interfaces above are their contract.
const PLATFORM_MODULE = '../../../tools/infra/platform.mjs';
const LOCAL_INFRA_MODULE = '../../../tools/infra/local-infra.mjs';
const infra = (await import(PLATFORM_MODULE)) as PlatformModule;
const localInfra = (await import(LOCAL_INFRA_MODULE)) as LocalInfraModule;

export const { startPlatform, createDatabase, dropDatabase } = infra;

export interface E2eEnvironment {
  platform: Platform;
  /** The database the platform runs on (URL to the test's own database). */
  databaseUrl: string;
  close(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through jest (tools/jest/global-setup.mjs)`);
  return value;
}

/**
 * A database and a nats-server of its own, and the six services on them; `close()` stops everything
 * and drops the database. NATS is per file: two platforms on one server would answer each other.
 */
export async function startE2eEnvironment(options: { tenantsFile?: string; serviceEnv?: ServiceEnv; port?: number } = {}): Promise<E2eEnvironment> {
  const adminUrl = requiredEnv('LATCHKEY_TEST_DATABASE_URL');
  const database = await createDatabase(adminUrl);
  let nats: Awaited<ReturnType<LocalInfraModule['startNats']>> | undefined;
  let platform: Platform;
  try {
    nats = await localInfra.startNats();
    platform = await startPlatform({
      databaseUrl: database.url,
      natsUrl: nats.url,
      log: 'ignore',
      ...(options.tenantsFile ? { tenantsFile: options.tenantsFile } : {}),
      ...(options.serviceEnv ? { serviceEnv: options.serviceEnv } : {}),
      ...(options.port ? { port: options.port } : {}),
    });
  } catch (error) {
    await nats?.stop();
    await dropDatabase(adminUrl, database.name);
    throw error;
  }
  const started = nats;
  return {
    platform,
    databaseUrl: database.url,
    async close() {
      try {
        await platform.stop();
      } finally {
        await started.stop();
        await dropDatabase(adminUrl, database.name);
      }
    },
  };
}

/** Writes a tenants file to a temporary directory; returns its path and a cleanup function. */
export function writeTenantsFile(yaml: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-tenants-'));
  const path = join(dir, 'tenants.yaml');
  writeFileSync(path, yaml);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  elapsedMs: number;
}

/** Signs of a leaked stack trace or internals in a response body. */
const STACK_TRACE = /\n\s+at\s|\bat [\w.<>]+ \(|node:internal|node_modules|\.m?[jt]s:\d+(:\d+)?|dist\/main\.js|\bError:/;

/**
 * fetch() that reads the whole body and checks what must hold for every answer of the gateway:
 * no 500 and no stack trace or source path in the body.
 */
export async function http(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const started = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  const elapsedMs = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  expect({ url, status: response.status }).not.toEqual({ url, status: 500 });
  expect(text).not.toMatch(STACK_TRACE);
  return { status: response.status, headers: response.headers, text, json, elapsedMs };
}

export const basicAuth = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A form POST (application/x-www-form-urlencoded) with an optional Authorization header. */
export function postForm(url: string, params: Record<string, string> | string, authorization?: string): Promise<HttpResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.authorization = authorization;
  return http(url, { method: 'POST', headers, body: typeof params === 'string' ? params : new URLSearchParams(params).toString() });
}

/** demo-service of config/tenants.dev.yaml: role admin; `access:evaluate` lets it ask the PDP through AuthZEN. */
export const DEMO_CLIENT = { id: 'demo-service', secret: 'demo-service-secret', scopes: ['devices:read', 'devices:write', 'access:evaluate', 'policy:read', 'policy:write', 'keys:read', 'keys:write'] } as const;
