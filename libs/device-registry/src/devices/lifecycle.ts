import { ContractError, type DeviceAction, type DeviceEventName, type DeviceStatus } from '@latchkey/contracts';

export interface Transition {
  to: DeviceStatus;
  /** The event (and audit record) the transition writes. */
  event: DeviceEventName;
}

/**
 * The device lifecycle (ARCHITECTURE, Devices): `provisioned → active → suspended → active`, and any
 * status but the final one → `decommissioned`. The table is the whole rule: what is not in it is illegal.
 */
const TRANSITIONS: Record<DeviceAction, { from: readonly DeviceStatus[]; to: DeviceStatus; event: DeviceEventName }> = {
  activate: { from: ['provisioned'], to: 'active', event: 'activated' },
  suspend: { from: ['active'], to: 'suspended', event: 'suspended' },
  reactivate: { from: ['suspended'], to: 'active', event: 'reactivated' },
  decommission: { from: ['provisioned', 'active', 'suspended'], to: 'decommissioned', event: 'decommissioned' },
};

/** Where `action` takes a device in status `from`; `conflict` with details `{ from, action }` when it may not. */
export function transition(from: DeviceStatus, action: DeviceAction): Transition {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(from)) throw illegal(from, action);
  return { to: rule.to, event: rule.event };
}

/** Changes other than lifecycle actions, by the name `conflict` details give them. */
const CHANGES = {
  update: 'update',
  'add-credential': 'add a credential to',
  'issue-claim-code': 'issue a claim code for',
  'bind-owner': 'bind an owner to',
} as const;
export type DeviceChangeAction = keyof typeof CHANGES;

/**
 * Changes other than transitions are refused on a decommissioned device, with the same `conflict`
 * shape as an illegal transition.
 */
export function assertChangeable(from: DeviceStatus, action: DeviceChangeAction): void {
  if (from === 'decommissioned') throw illegal(from, action, CHANGES[action]);
}

function illegal(from: DeviceStatus, action: string, verb = action): ContractError {
  const why = from === 'decommissioned' ? ': decommissioning is final' : '';
  return new ContractError('conflict', `cannot ${verb} a ${from} device${why}`, { from, action });
}
