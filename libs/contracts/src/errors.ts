import { z } from 'zod';

/**
 * Every error that crosses NATS is one of these codes. The OAuth codes are RFC 6749 §5.2 / RFC 7009 /
 * RFC 8628 names so the gateway can pass them through; the others map to problem+json statuses.
 */
export const ERROR_CODES = [
  // OAuth 2.0 (RFC 6749 §5.2, RFC 8707 §2, RFC 7009 §2.2.1)
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  // Platform
  'tenant_not_found',
  'not_found',
  'conflict',
  'validation_failed',
  'forbidden',
  'unavailable',
  'internal',
  /** Too many attempts, where saying so reveals nothing (HTTP 429). */
  'rate_limited',
  // RFC 6749 §4.1.2.1 authorization-endpoint errors
  'access_denied',
  'unsupported_response_type',
  // OIDC Core §3.1.2.6: request objects (§6.1 `request`, §6.2 `request_uri`) are not offered
  'request_not_supported',
  'request_uri_not_supported',
  // RFC 8628 §3.5 device access token errors (all HTTP 400 on the token endpoint)
  'authorization_pending',
  'slow_down',
  'expired_token',
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The envelope an error travels in: never a stack trace, SQL text or secret. */
export const ErrorEnvelope = z.object({
  code: ErrorCode,
  message: z.string().max(1000),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** A typed failure a domain class throws and a caller receives across the wire. */
export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toEnvelope(): ErrorEnvelope {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static fromEnvelope(envelope: ErrorEnvelope): ContractError {
    return new ContractError(envelope.code, envelope.message, envelope.details);
  }

  static is(value: unknown, code?: ErrorCode): value is ContractError {
    return value instanceof ContractError && (code === undefined || value.code === code);
  }
}
