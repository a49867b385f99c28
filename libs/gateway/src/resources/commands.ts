import { Actor, ActorClaim } from '@latchkey/contracts';
import { z } from 'zod';

/** The commands of the demo resource endpoint and the scope each needs. */
export const COMMAND_SCOPES = { unlock: 'lock:unlock', lock: 'lock:unlock', configure: 'lock:configure' } as const;
export type DeviceCommand = keyof typeof COMMAND_SCOPES;

/** The answer of `POST /v1/devices/{idOrSerial}/commands/{command}`: what was recorded, by whom, for whom. */
export const CommandReply = z.object({
  commandId: z.string(),
  device: z.object({ id: z.uuid(), serial: z.string() }),
  command: z.string(),
  /** Who sent it: the person (or app) whose token it was; for a delegated token the acting party (`act.sub`). */
  actor: Actor,
  /** A delegated token's `sub`: the owner the actor acted for; null for the owner's own token. */
  onBehalfOf: z.string().nullable(),
  grantId: z.string().nullable(),
  /** A delegated token's actor chain (RFC 8693 §4.1: the current actor outermost, prior ones nested), as the policy asked it recorded; null for the owner's own token. */
  act: ActorClaim.nullable(),
  at: z.iso.datetime({ offset: true }),
});
export type CommandReply = z.infer<typeof CommandReply>;
