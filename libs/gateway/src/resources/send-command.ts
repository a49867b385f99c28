import { type ActorClaimValue, DeviceId, DeviceSerial, type DeviceView, FindDeviceBySerial, GetDevice, RecordDeviceCommand } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import type { Principal } from '../auth/principal.js';
import { HttpFailure } from '../http/http-errors.js';
import { commandAccess } from './command-access.js';
import type { CommandReply, DeviceCommand } from './commands.js';

/**
 * A device by the path's reference: a UUID is its id, anything else its serial (serials are what people
 * and grants name: `device:lock-1`). What is neither, or another tenant's device, is not found.
 */
export async function resolveDevice(messaging: ContractClient, tenant: string, reference: string): Promise<DeviceView> {
  if (DeviceId.safeParse(reference).success) return (await messaging.send(GetDevice, { tenant, deviceId: reference })).device;
  if (!DeviceSerial.safeParse(reference).success) throw new HttpFailure(404, 'not_found', 'no such device');
  return (await messaging.send(FindDeviceBySerial, { tenant, serial: reference })).device;
}

/**
 * Sends a command the policy allowed to `device` (the one the policy step resolved): checks the
 * delegated token is for this device (`commandAccess`), and has the registry record the command with
 * the acting party, the person acted for and the grant. `auditAct` is the policy's `audit` obligation
 * (the actor chain, RFC 8693 `act`): the recorded actor is its current actor, and the reply carries
 * the whole chain.
 */
export async function sendCommand(messaging: ContractClient, principal: Principal, device: DeviceView, command: DeviceCommand, auditAct: ActorClaimValue | null): Promise<CommandReply> {
  const { tenant, onBehalfOf, gid } = principal;
  const access = commandAccess(principal, device);
  if (!access.allowed) throw new HttpFailure(403, 'forbidden', access.reason);
  const act = auditAct ?? principal.act;
  // The current actor of the chain (its outermost `sub`) is who acted; the guard made it the principal's actor.
  const actor = act ? { type: principal.actor.type, id: act.sub } : principal.actor;
  const recorded = await messaging.send(RecordDeviceCommand, { tenant, deviceId: device.id, command, actor, onBehalfOf, grantId: gid });
  return { commandId: recorded.commandId, device: { id: recorded.device.id, serial: recorded.device.serial }, command, actor, onBehalfOf, grantId: gid, act: act ?? null, at: recorded.at };
}
