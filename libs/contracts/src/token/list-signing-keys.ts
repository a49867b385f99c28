import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineRequest } from '../contract.js';

const Timestamp = z.iso.datetime();

/** A signing key as operators see it: its life cycle (docs/adr/0010), never its private half. */
export const SigningKeyView = z.object({
  /** The key id (RFC 7638 thumbprint), as in the JWKS and in the `kid` of what it signs. */
  kid: z.string(),
  alg: z.string(),
  /** `next`: published, signs from `activatesAt`; `active`: signs; `retired`: verifies until `publishUntil`. */
  status: z.enum(['next', 'active', 'retired']),
  /** Whether the tenant's JWKS lists it now. */
  published: z.boolean(),
  createdAt: Timestamp,
  /** When it starts or started to sign. */
  activatesAt: Timestamp,
  /** When its successor took over; null unless retired. */
  retiredAt: Timestamp.nullable(),
  /** Until when a retired key stays in the JWKS (every token it signed has expired by then); null unless retired. */
  publishUntil: Timestamp.nullable(),
  /** Why it was created: e.g. `scheduled`, or the reason given with a rotation; null for a first key. */
  rotationReason: z.string().nullable(),
});
export type SigningKeyView = z.infer<typeof SigningKeyView>;

/** Admin read: the tenant's signing keys of every algorithm track, newest first (at most the 100 latest). */
export const ListSigningKeys = defineRequest({
  subject: 'latchkey.token.v1.list-signing-keys',
  request: z.object({ tenant: TenantId }),
  reply: z.object({ keys: z.array(SigningKeyView) }),
});
