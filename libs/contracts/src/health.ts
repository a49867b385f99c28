import { z } from 'zod';
import { defineRequest } from './contract.js';

export const HealthCheckResult = z.object({ ok: z.boolean(), latencyMs: z.number().nonnegative(), error: z.string().optional() });

export const HealthReply = z.object({
  service: z.string(),
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), HealthCheckResult),
});
export type HealthReply = z.infer<typeof HealthReply>;

const HealthRequest = z.object({}).strict();

/** `latchkey.<service>.v1.health`: answered by every NATS service, reports its database. */
function healthOf<S extends string>(service: S) {
  return defineRequest({ subject: `latchkey.${service}.v1.health` as const, request: HealthRequest, reply: HealthReply });
}

export const IdentityHealth = healthOf('identity');
export const TokenHealth = healthOf('token');
export const DelegationHealth = healthOf('delegation');
export const DeviceHealth = healthOf('device');
export const PolicyHealth = healthOf('policy');
