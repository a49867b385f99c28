/**
 * The URI a user agent is sent back to (RFC 6749 §4.1.2 and §4.1.2.1): the validated redirect URI with
 * the response parameters appended to its query, keeping any query it already has (RFC 6749 §3.1.2).
 * Registered redirect URIs never carry a fragment, so appending is safe.
 */
export function authorizationResponseLocation(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.append(name, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}
