import { z } from 'zod';
import { TenantId } from '../common.js';
import { defineEvent, defineRequest } from '../contract.js';
import { Actor } from '../device/device.js';

/**
 * Admin operation: start a rotation of the tenant's signing key. A new key is published in the JWKS at
 * once as the tenant's `next` key and starts signing at `activatesAt` (after the propagation delay that
 * lets every JWKS cache see it first); the current key is retired at that instant and stays in the
 * JWKS until every token it signed has expired. While a rotation is pending, asking again returns the
 * pending key instead of creating another one.
 */
export const RotateSigningKey = defineRequest({
  subject: 'latchkey.token.v1.rotate-signing-key',
  request: z.object({
    tenant: TenantId,
    /** Free text recorded with the key, e.g. "suspected compromise" or a ticket number. */
    reason: z.string().min(1).max(500).optional(),
    /** Who asked (the admin API's caller), for the token service's log; absent for the platform itself. */
    actor: Actor.optional(),
  }),
  reply: z.object({
    /** The id (RFC 7638 thumbprint) of the key that will sign. */
    kid: z.string(),
    activatesAt: z.iso.datetime(),
  }),
});

/** Published once when a tenant's new signing key becomes active (the previous one is retired). */
export const SigningKeyRotated = defineEvent({
  subject: 'latchkey.events.token.signing-key-rotated',
  payload: z.object({
    tenant: TenantId,
    kid: z.string(),
    /** The key it replaces, now retired; absent if the tenant had none. */
    previousKid: z.string().optional(),
    activatedAt: z.iso.datetime(),
    /** Until when the previous key stays in the JWKS. */
    previousPublishedUntil: z.iso.datetime().optional(),
    reason: z.string().max(500).optional(),
  }),
});
