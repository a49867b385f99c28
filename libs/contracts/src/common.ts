import { z } from 'zod';

/** A tenant id: a lowercase slug that is safe in a URL path and an issuer. */
export const TenantId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'a tenant id is a lowercase slug (a-z, 0-9, -)');
export type TenantId = z.infer<typeof TenantId>;

/** RFC 6749 §3.3 scope-token: printable ASCII without space, double quote or backslash. */
export const ScopeToken = z.string().min(1).max(200).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'malformed scope token');

export const ClientId = z.string().min(1).max(200).regex(/^[\x20-\x7E]+$/, 'malformed client_id');

/** Every request carries its tenant. */
export const TenantScoped = z.object({ tenant: TenantId });

export const SERVICE_NAMES = ['gateway', 'identity', 'token', 'delegation', 'device-registry', 'policy'] as const;
export const ServiceName = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof ServiceName>;
