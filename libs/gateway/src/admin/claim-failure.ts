import { ContractError, type ErrorCode } from '@latchkey/contracts';

const CODE_FAILURES: readonly ErrorCode[] = ['invalid_grant', 'not_found', 'conflict', 'invalid_request', 'validation_failed'];

/**
 * Every way a claim code can fail that must look the same from outside: unknown, expired, used, for
 * a device that has an owner by now, or not even shaped like a code. Throttling (`rate_limited`) is
 * per user and IP, not per code, so it tells a guesser nothing either.
 */
export function isClaimCodeFailure(error: unknown): boolean {
  return CODE_FAILURES.some((code) => ContractError.is(error, code));
}
