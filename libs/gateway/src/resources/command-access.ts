import type { DeviceView } from '@latchkey/contracts';
import { audiencesOf, type Principal } from '../auth/principal.js';

export type CommandAccess = { allowed: true } | { allowed: false; reason: string };

/** The audience (RFC 8707 resource) a delegated token must carry to command a device: `device:<serial>`. */
export const deviceResource = (serial: string) => `device:${serial}`;

/**
 * What a command route checks of the token itself, after the policy allowed the command (who may
 * command which device is the policy's: owners, controllers at their site, operators, admins; for a
 * delegated token, the person acted for narrowed by the grant). A delegated token must be FOR this
 * device: its `aud` names `device:<serial>`. A grant on `*` shares the delegator's account (their
 * profile, what the tenant lets people share of themselves), not their devices: a device is shared by
 * naming it, so an owner always knows which locks someone else can open. A direct token has no such
 * binding to check.
 */
export function commandAccess(principal: Pick<Principal, 'claims' | 'onBehalfOf'>, device: Pick<DeviceView, 'serial'>): CommandAccess {
  if (principal.onBehalfOf === null) return { allowed: true };
  if (!audiencesOf(principal.claims).includes(deviceResource(device.serial))) return { allowed: false, reason: 'the delegated token is not for this device (its grant must name it)' };
  return { allowed: true };
}
