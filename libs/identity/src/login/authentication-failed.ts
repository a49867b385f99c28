import { AUTHENTICATION_FAILED, ContractError } from '@latchkey/contracts';

/** The one error every failed sign-in gets, whatever the reason. */
export function authenticationFailed(): ContractError {
  return new ContractError(AUTHENTICATION_FAILED.code, AUTHENTICATION_FAILED.message);
}
