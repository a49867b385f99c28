import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { PolicyValidationError } from '../bundles/bundle-archive.js';
import { defaultData, defaultWasmWithData, maintenanceBundle, notAPolicyBundle, tarGz } from '../bundles/bundle-kit.test.js';
import { defaultBundle } from '../default-bundle/default-bundle.js';
import { CompiledBundle, PolicyEvaluationError, type PolicyInstance, SDK_BUILTINS } from './compiled-policy.js';
import { clock, HOST_BUILTINS, parseRfc3339Ns, weekday } from './host-builtins.js';

const lock = { type: 'device', id: 'dev-lock-1', attributes: { serial: 'lock-1', ownerId: 'adam', status: 'active', site: 'zurich' } };
const evening = {
  id: 'g-1',
  resource: 'device:lock-1',
  scopes: ['lock:unlock'],
  notBefore: '2026-11-01T00:00:00Z',
  expiresAt: '2026-12-01T00:00:00Z',
  constraints: { timeZone: 'Europe/Zurich', timeOfDay: { from: '18:00', to: '22:00' } },
};
const input = (subject: object, action: string, resource: object, context: object = { time: '2026-11-19T18:30:00Z' }) =>
  JSON.stringify({ tenant: 'demo', subject, action: { name: action }, resource, context });

describe('the default bundle in the Wasm SDK', () => {
  let policy: PolicyInstance;

  beforeAll(async () => {
    const bundle = await CompiledBundle.compile(defaultBundle());
    policy = await bundle.instantiate(bundle.data);
  });

  it('decides as the Rego tests say (RBAC)', () => {
    expect(policy.evaluate(input({ type: 'user', id: 'ada', roles: ['admin'] }, 'devices.read', lock))).toEqual({
      allow: true,
      reasons: ['role admin permits devices.read'],
      ttlSeconds: 30,
    });
    const sensor = { type: 'device', id: 's-1', attributes: { deviceType: 'sensor' } };
    expect(policy.evaluate(input(sensor, 'device.telemetry.publish', { type: 'device', id: 's-1', attributes: { status: 'active' } })).allow).toBe(true);
    expect(policy.evaluate(input(sensor, 'device.command.unlock', lock))).toEqual({
      allow: false,
      reasons: ['no_permission: no role of the subject permits device.command.unlock on this resource'],
    });
  });

  it('runs the time built-ins it needs for delegation grants (host built-ins)', () => {
    const adamForBianca = { type: 'user', id: 'adam', roles: ['device-owner'], act: { sub: 'bianca' }, gid: 'g-1' };
    expect(policy.evaluate(input(adamForBianca, 'device.command.unlock', lock, { time: '2026-11-19T18:30:00Z', grant: evening }))).toEqual({
      allow: true,
      reasons: ['role device-owner permits device.command.unlock'],
      obligations: { audit: { act: { sub: 'bianca' } } },
    });
    expect(policy.evaluate(input(adamForBianca, 'device.command.unlock', lock, { time: '2026-11-19T08:00:00.123456789+01:00', grant: evening }))).toEqual({
      allow: false,
      reasons: ['grant_outside_time_of_day: the grant allows 18:00-22:00 (Europe/Zurich)'],
    });
  });

  it('turns a failing built-in into an evaluation error, not an answer', () => {
    const adamForBianca = { type: 'user', id: 'adam', roles: ['device-owner'], act: { sub: 'bianca' } };
    const badZone = { ...evening, constraints: { timeZone: 'Mars/Olympus', timeOfDay: { from: '18:00', to: '22:00' } } };
    expect(() => policy.evaluate(input(adamForBianca, 'device.command.unlock', lock, { time: '2026-11-19T18:30:00Z', grant: badZone }))).toThrow(PolicyEvaluationError);
  });

  it('keeps evaluating after an error (the instance is reused)', () => {
    expect(policy.evaluate(input({ type: 'user', id: 'ada', roles: ['admin'] }, 'devices.suspend', lock)).allow).toBe(true);
  });

  it('takes new data without a new instance', async () => {
    const bundle = await CompiledBundle.compile(defaultBundle());
    const instance = await bundle.instantiate(bundle.data);
    const olga = { type: 'user', id: 'olga' };
    expect(instance.evaluate(input(olga, 'devices.suspend', lock)).allow).toBe(false);
    instance.setData({ ...bundle.data, bindings: { user: { olga: { roles: ['operator'], sites: ['zurich'] } } } });
    expect(instance.evaluate(input(olga, 'devices.suspend', lock)).allow).toBe(true);
  });
});

describe('bundle validation', () => {
  const rejection = (archive: Uint8Array) =>
    CompiledBundle.compile(archive).then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(PolicyValidationError);
        return (error as Error).message;
      },
    );

  it.each([
    ['not gzip', Buffer.from('hello'), 'not a gzip archive'],
    ['truncated gzip', tarGz({}).subarray(0, 10), 'not a gzip archive'],
    ['gzip but not tar', gzipSync(Buffer.alloc(600, 'x')), 'not a tar archive'],
    ['no policy.wasm', tarGz({ 'data.json': '{}' }), 'has no policy.wasm'],
    ['bad data.json', tarGz({ 'data.json': '{', 'policy.wasm': 'x' }), 'data.json is not valid JSON'],
    ['another entrypoint', tarGz({ '.manifest': JSON.stringify({ wasm: [{ entrypoint: 'x/allow', module: '/policy.wasm' }] }), 'policy.wasm': 'x' }), 'does not compile the entrypoint latchkey/authz/decision (it has: x/allow)'],
    ['not WebAssembly', tarGz({ 'policy.wasm': 'not wasm' }), 'not valid WebAssembly'],
    ['not an OPA policy', notAPolicyBundle(), 'is not an OPA policy'],
  ])('case=%s', async (_, archive, message) => {
    expect(await rejection(archive)).toContain(message);
  });

  it('accepts another compiled policy and the default Wasm with other data', async () => {
    const maintenance = await (await CompiledBundle.compile(maintenanceBundle())).instantiate();
    maintenance.setData({ maintenance: { message: 'closed' } });
    expect(maintenance.evaluate(input({ type: 'user', id: 'x' }, 'devices.suspend', lock))).toEqual({ allow: false, reasons: ['maintenance: closed'] });
    const relabelled = await CompiledBundle.compile(defaultWasmWithData({ ...defaultData(), roles: {} }));
    expect(relabelled.data.roles).toEqual({});
  });
});

describe('host built-ins', () => {
  it('parse RFC 3339 times to nanoseconds', () => {
    expect(parseRfc3339Ns('1970-01-01T00:00:01Z')).toBe(1e9);
    expect(parseRfc3339Ns('1970-01-01T01:00:00.000000250+01:00')).toBe(250);
    expect(() => parseRfc3339Ns('yesterday')).toThrow('not an RFC 3339 time');
  });

  it('give the clock and weekday in a time zone, UTC by default', () => {
    const ns = parseRfc3339Ns('2026-11-19T23:30:05Z');
    expect(clock(ns)).toEqual([23, 30, 5]);
    expect(clock([ns, 'Europe/Zurich'])).toEqual([0, 30, 5]);
    expect(weekday([ns, 'Europe/Zurich'])).toBe('Friday');
    expect(weekday(ns)).toBe('Thursday');
    expect(() => clock([ns, 'Nowhere/Land'])).toThrow('unknown time zone');
  });

  it('are exactly the ones the policy build allows, next to the SDK\'s', async () => {
    const build = (await import(new URL('../../../../scripts/policy-build.mjs', import.meta.url).href)) as { HOST_BUILTINS: string[] };
    expect(Object.keys(HOST_BUILTINS).sort()).toEqual([...build.HOST_BUILTINS].sort());
    const sdkEntry = createRequire(import.meta.url).resolve('@open-policy-agent/opa-wasm');
    const sdkBuiltins = createRequire(import.meta.url)(join(dirname(sdkEntry), 'builtins', 'index.js')) as Record<string, unknown>;
    expect(Object.keys(sdkBuiltins).sort()).toEqual([...SDK_BUILTINS].sort());
  });
});
