import type { AuthorizationInteraction, SessionSummary } from '@latchkey/contracts';

/** Why an existing session cannot serve an authorization request without signing in again. */
export type ReauthenticationReason = 'no-session' | 'prompt-login' | 'select-account' | 'max-age' | 'acr';

/**
 * OIDC Core §3.1.2.1 / §3.1.2.3: whether the browser's session may answer this request without a new
 * sign-in. `prompt=login` always asks again; so does `prompt=select_account`, since the sign-in form is
 * where a person picks the account (one session per browser and tenant: there is no list of accounts
 * to choose from); `max_age` bounds the age of `auth_time`; `acr_values` is
 * voluntary, so it asks again only when the session's `acr` is not among the requested ones and a
 * new sign-in could earn one of them (known values only).
 */
export function reauthenticationReason(
  interaction: Pick<AuthorizationInteraction, 'prompt' | 'maxAge' | 'acrValues'>,
  session: Pick<SessionSummary, 'authTime' | 'acr'> | null,
  nowSeconds: number,
  knownAcrValues: readonly string[],
): ReauthenticationReason | undefined {
  if (!session) return 'no-session';
  if (interaction.prompt.includes('login')) return 'prompt-login';
  if (interaction.prompt.includes('select_account')) return 'select-account';
  if (interaction.maxAge !== undefined && nowSeconds - session.authTime > interaction.maxAge) return 'max-age';
  const wanted = interaction.acrValues?.filter((value) => knownAcrValues.includes(value)) ?? [];
  if (wanted.length > 0 && !wanted.includes(session.acr)) return 'acr';
  return undefined;
}

/** OIDC Core §3.1.2.1: the consent page is shown when asked for, or when consent is missing. */
export function consentNeeded(interaction: Pick<AuthorizationInteraction, 'prompt'>, granted: boolean): boolean {
  return interaction.prompt.includes('consent') || !granted;
}
