import type { DeviceView } from '@latchkey/contracts';
import { audiencesOf, type Principal } from '../auth/principal.js';

export type CommandAccess = { allowed: true } | { allowed: false; reason: string };

/** The audience (RFC 8707 resource) a delegated token must carry to command a device: `device:<serial>`. */
export const deviceResource = (serial: string) => `device:${serial}`;

/**
 * Who may send a command to a device (the scope was the guard's business):
 * - with their own token, the device's owner, a person (not an app or device acting for itself);
 * - with a delegated token, someone acting for the owner (`sub` = the owner) under a grant for THIS
 *   device: the token's `aud` names `device:<serial>`. A grant on `*` shares the delegator's account
 *   (their profile, what the tenant lets people share of themselves), not their devices: a device is
 *   shared by naming it, so an owner always knows which locks someone else can open.
 */
export function commandAccess(principal: Pick<Principal, 'claims' | 'actor' | 'onBehalfOf'>, device: Pick<DeviceView, 'ownerId' | 'serial'>): CommandAccess {
  if (device.ownerId === null) return { allowed: false, reason: 'the device has no owner: nobody may command it through this API' };
  if (principal.onBehalfOf === null) {
    if (principal.actor.type === 'user' && principal.actor.id === device.ownerId) return { allowed: true };
    return { allowed: false, reason: 'only the device’s owner, or someone they shared it with, may command it' };
  }
  if (principal.onBehalfOf !== device.ownerId) return { allowed: false, reason: 'the delegated token acts for someone who does not own this device' };
  if (!audiencesOf(principal.claims).includes(deviceResource(device.serial))) return { allowed: false, reason: 'the delegated token is not for this device (its grant must name it)' };
  return { allowed: true };
}
