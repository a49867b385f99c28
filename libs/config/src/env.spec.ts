import { describe, expect, it } from '@jest/globals';
import { ConfigError, DatabaseServiceEnv, GatewayEnv, parseEnv, TokenServiceEnv } from './env.js';

const DB = { DATABASE_URL: 'postgres://u:p@db:5432/latchkey' };

describe('environment', () => {
  it('case=should read TRUSTED_PROXIES as addresses and CIDR ranges, none by default', () => {
    expect(parseEnv(GatewayEnv, {}).TRUSTED_PROXIES).toEqual([]);
    expect(parseEnv(GatewayEnv, { TRUSTED_PROXIES: '' }).TRUSTED_PROXIES).toEqual([]);
    expect(parseEnv(GatewayEnv, { TRUSTED_PROXIES: '10.42.0.0/16, 192.0.2.1,fd00::/8 ,::1,loopback' }).TRUSTED_PROXIES).toEqual([
      '10.42.0.0/16',
      '192.0.2.1',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
  });

  it('case=should refuse a TRUSTED_PROXIES entry that is no address or range', () => {
    for (const bad of ['*', 'true', '10.0.0.0/33', 'ingress-nginx', '10.0.0.1/8/1', '::1/129']) {
      expect(() => parseEnv(GatewayEnv, { TRUSTED_PROXIES: bad })).toThrow(ConfigError);
    }
    expect(() => parseEnv(GatewayEnv, { TRUSTED_PROXIES: '*' })).toThrow(/TRUSTED_PROXIES/);
  });

  it('case=should read NATS credentials, an empty value meaning none, and never echo them in errors', () => {
    const env = parseEnv(GatewayEnv, { NATS_CREDS_FILE: '/etc/latchkey/nats/nats.creds' });
    expect(env.NATS_CREDS_FILE).toBe('/etc/latchkey/nats/nats.creds');
    expect(env.NATS_TOKEN).toBeUndefined();
    expect(parseEnv(GatewayEnv, { NATS_TOKEN: '' }).NATS_TOKEN).toBeUndefined();
    expect(parseEnv(DatabaseServiceEnv, { ...DB, NATS_TOKEN: 'tok' }).NATS_TOKEN).toBe('tok');
    let message = '';
    try {
      parseEnv(DatabaseServiceEnv, { ...DB, NATS_TOKEN: 'super-secret-token', HEALTH_PORT: 'x' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/HEALTH_PORT/);
    expect(message).not.toContain('super-secret-token');
  });

  it('reads the signing-key rotation schedule in whole days (default 30) and the propagation delay in seconds (default 120)', () => {
    const token = { ...DB, LATCHKEY_KEK: Buffer.alloc(32, 7).toString('base64') };
    expect(parseEnv(TokenServiceEnv, token)).toMatchObject({ SIGNING_KEY_ROTATION_DAYS: 30, SIGNING_KEY_PROPAGATION_SECONDS: 120 });
    expect(parseEnv(TokenServiceEnv, { ...token, SIGNING_KEY_ROTATION_DAYS: '7', SIGNING_KEY_PROPAGATION_SECONDS: '600' })).toMatchObject({ SIGNING_KEY_ROTATION_DAYS: 7, SIGNING_KEY_PROPAGATION_SECONDS: 600 });
    for (const days of ['0', '1.5', '366', 'monthly']) expect(() => parseEnv(TokenServiceEnv, { ...token, SIGNING_KEY_ROTATION_DAYS: days })).toThrow(/SIGNING_KEY_ROTATION_DAYS/);
    for (const seconds of ['0', '2.5', '86401']) expect(() => parseEnv(TokenServiceEnv, { ...token, SIGNING_KEY_PROPAGATION_SECONDS: seconds })).toThrow(/SIGNING_KEY_PROPAGATION_SECONDS/);
  });

  it('case=should wait 240 s for the schema by default, 0 turning the check off', () => {
    expect(parseEnv(DatabaseServiceEnv, DB).SCHEMA_WAIT_TIMEOUT_SECONDS).toBe(240);
    expect(parseEnv(DatabaseServiceEnv, { ...DB, SCHEMA_WAIT_TIMEOUT_SECONDS: '0' }).SCHEMA_WAIT_TIMEOUT_SECONDS).toBe(0);
    expect(() => parseEnv(DatabaseServiceEnv, { ...DB, SCHEMA_WAIT_TIMEOUT_SECONDS: '-1' })).toThrow(/SCHEMA_WAIT_TIMEOUT_SECONDS/);
  });
});
