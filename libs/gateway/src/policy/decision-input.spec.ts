import { describe, expect, it } from '@jest/globals';
import type { DeviceView, GrantView } from '@latchkey/contracts';
import { contextIp, decisionGrant, deviceAttributes, newDeviceAttributes, policyAttributes } from './decision-input.js';

const NOW = '2030-01-01T00:00:00.000Z';
const device = (overrides: Partial<DeviceView> = {}): DeviceView => ({
  id: '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e',
  tenant: 'demo',
  serial: 'lock-1',
  type: 'bike-lock',
  model: 'Latch One',
  firmwareVersion: null,
  location: 'north-hall',
  attributes: { floor: 3 },
  ownerId: null,
  status: 'active',
  createdAt: NOW,
  updatedAt: NOW,
  lastSeenAt: NOW,
  ...overrides,
});

describe('the policy input of a device', () => {
  it('is the registry’s view without timestamps, unknown values left out, the site attribute when it has one', () => {
    expect(deviceAttributes(device())).toEqual({ serial: 'lock-1', type: 'bike-lock', status: 'active', location: 'north-hall', tenant: 'demo' });
    expect(deviceAttributes(device({ ownerId: 'user-adam', firmwareVersion: '1.0.0', attributes: { site: 'north' } }))).toEqual({
      serial: 'lock-1',
      type: 'bike-lock',
      status: 'active',
      ownerId: 'user-adam',
      location: 'north-hall',
      firmwareVersion: '1.0.0',
      site: 'north',
      tenant: 'demo',
    });
    expect(deviceAttributes(device({ attributes: { site: 7 } }))).not.toHaveProperty('site');
  });

  it('of a device to create is what the body says it will be', () => {
    expect(newDeviceAttributes('demo', { serial: 'n-1', type: 'sensor', location: 'yard', attributes: { site: 'south' }, ownerId: 'user-adam' })).toEqual({
      serial: 'n-1',
      type: 'sensor',
      status: 'provisioned',
      ownerId: 'user-adam',
      location: 'yard',
      site: 'south',
      tenant: 'demo',
    });
    expect(newDeviceAttributes('demo', { serial: 'n-1', type: 'sensor', activate: true }).status).toBe('active');
  });
});

describe('policyAttributes', () => {
  it('keeps what the contract takes: valid names, no null, at most 50', () => {
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`a${i}`, i]));
    expect(Object.keys(policyAttributes(many))).toHaveLength(50);
    expect(policyAttributes({ sites: ['north'], 'bad name': 1, gone: null, undef: undefined })).toEqual({ sites: ['north'] });
  });
});

describe('decisionGrant', () => {
  it('is the grant as the policy reads it: the delegatee by id', () => {
    const grant = {
      id: '8d3c1f9e-2a4b-4c5d-9e6f-7a8b9c0d1e2f',
      tenant: 'demo',
      delegator: { id: 'user-adam', name: 'adam' },
      rootDelegatorId: 'user-adam',
      delegatee: { type: 'user', id: 'user-bianca', name: 'bianca' },
      resource: 'device:lock-1',
      scopes: ['lock:unlock'],
      notBefore: NOW,
      expiresAt: NOW,
      constraints: { timeZone: 'Europe/Zurich', weekdays: ['tue'] },
      status: 'active',
    } as unknown as GrantView;
    expect(decisionGrant(grant)).toEqual({ id: grant.id, status: 'active', delegatee: 'user-bianca', resource: 'device:lock-1', scopes: ['lock:unlock'], notBefore: NOW, expiresAt: NOW, constraints: { timeZone: 'Europe/Zurich', weekdays: ['tue'] } });
  });
});

describe('contextIp', () => {
  it('takes IPv4 and IPv6, an IPv4-mapped IPv6 address as IPv4, and drops anything else', () => {
    expect(contextIp('127.0.0.1')).toBe('127.0.0.1');
    expect(contextIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(contextIp('2001:db8::1')).toBe('2001:db8::1');
    expect(contextIp('localhost')).toBeUndefined();
    expect(contextIp(undefined)).toBeUndefined();
  });
});
