import { describe, expect, it } from '@jest/globals';
import { ContractError, DEVICE_ACTIONS, DEVICE_STATUSES, type DeviceAction, type DeviceStatus } from '@latchkey/contracts';
import { assertChangeable, transition } from './lifecycle.js';

const LEGAL: Record<string, DeviceStatus> = {
  'provisioned/activate': 'active',
  'active/suspend': 'suspended',
  'suspended/reactivate': 'active',
  'provisioned/decommission': 'decommissioned',
  'active/decommission': 'decommissioned',
  'suspended/decommission': 'decommissioned',
};

describe('device lifecycle', () => {
  const cases = DEVICE_STATUSES.flatMap((from) => DEVICE_ACTIONS.map((action) => [from, action] as [DeviceStatus, DeviceAction]));

  it.each(cases)('case=%s + %s', (from, action) => {
    const expected = LEGAL[`${from}/${action}`];
    if (expected) {
      expect(transition(from, action).to).toBe(expected);
      return;
    }
    let error: unknown;
    try {
      transition(from, action);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContractError);
    expect((error as ContractError).toEnvelope()).toEqual({ code: 'conflict', message: expect.stringContaining(`cannot ${action} a ${from} device`), details: { from, action } });
  });

  it('names the event of each legal transition', () => {
    expect(transition('provisioned', 'activate').event).toBe('activated');
    expect(transition('active', 'suspend').event).toBe('suspended');
    expect(transition('suspended', 'reactivate').event).toBe('reactivated');
    expect(transition('active', 'decommission').event).toBe('decommissioned');
  });

  it('case=should refuse any change to a decommissioned device and allow it otherwise', () => {
    expect(() => assertChangeable('decommissioned', 'add-credential')).toThrow(expect.objectContaining({ code: 'conflict', message: 'cannot add a credential to a decommissioned device: decommissioning is final', details: { from: 'decommissioned', action: 'add-credential' } }));
    for (const status of ['provisioned', 'active', 'suspended'] as const) expect(() => assertChangeable(status, 'update')).not.toThrow();
  });
});
