import { z } from 'zod';

/** RFC 8176 authentication method references Latchkey produces. */
export const AUTHENTICATION_METHODS = ['pwd', 'otp'] as const;
export const AuthenticationMethod = z.enum(AUTHENTICATION_METHODS);
export type AuthenticationMethod = z.infer<typeof AuthenticationMethod>;

/** Authentication context class references (OIDC `acr`): level of assurance 1 = password, 2 = password + OTP. */
export const ACR_PASSWORD = 'urn:latchkey:loa:1';
export const ACR_PASSWORD_AND_OTP = 'urn:latchkey:loa:2';
export const AuthenticationContextClass = z.enum([ACR_PASSWORD, ACR_PASSWORD_AND_OTP]);
export type AuthenticationContextClass = z.infer<typeof AuthenticationContextClass>;

/** The `acr` that a set of methods earns. */
export function acrFor(amr: readonly AuthenticationMethod[]): AuthenticationContextClass {
  return amr.includes('pwd') && amr.includes('otp') ? ACR_PASSWORD_AND_OTP : ACR_PASSWORD;
}

/** The address the sign-in came from, as the gateway saw it: the key of per-IP throttling. */
export const ClientIp = z.union([z.ipv4(), z.ipv6()]);

/** A six-digit RFC 6238 code (the gateway strips spaces before sending it). */
export const OtpCode = z.string().regex(/^\d{6}$/, 'a six-digit code');

/**
 * An opaque session id as the browser presents it. Any string is accepted so that a garbage cookie is
 * simply "no session", never a validation error.
 */
export const SessionId = z.string().min(1).max(512);

/**
 * Every failed authentication (unknown user, wrong password, disabled user, lockout, throttling, wrong
 * or replayed code) is this same error, so that a caller learns nothing from it.
 */
export const AUTHENTICATION_FAILED = { code: 'invalid_grant', message: 'authentication failed' } as const;
