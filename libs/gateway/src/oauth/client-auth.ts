import type { ClientAuthentication } from '@latchkey/contracts';
import { HttpFailure } from '../http/http-errors.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLIENT_PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

/**
 * Works out how the client authenticated (RFC 6749 §2.3, RFC 7523 §2.2) and removes those parameters
 * from the rest. More than one method in one request is `invalid_request` (RFC 6749 §2.3).
 */
export function extractClientAuthentication(
  authorization: string | undefined,
  params: Record<string, string>,
): { client: ClientAuthentication; rest: Record<string, string> } {
  const rest = Object.fromEntries(Object.entries(params).filter(([name]) => !CLIENT_PARAMETERS.includes(name)));
  const basic = authorization !== undefined ? parseBasic(authorization) : undefined;
  const methods = [basic, params.client_secret, params.client_assertion].filter((v) => v !== undefined).length;
  if (methods > 1) throw new HttpFailure(400, 'invalid_request', 'more than one client authentication method used');

  if (basic) {
    if (params.client_id !== undefined && params.client_id !== basic.clientId) {
      throw new HttpFailure(400, 'invalid_request', 'client_id does not match the Authorization header');
    }
    return { client: { method: 'client_secret_basic', ...basic }, rest };
  }
  if (params.client_assertion !== undefined) {
    if (params.client_assertion_type !== JWT_BEARER) throw new HttpFailure(400, 'invalid_request', 'unsupported client_assertion_type');
    return { client: { method: 'private_key_jwt', assertion: params.client_assertion, ...(params.client_id ? { clientId: params.client_id } : {}) }, rest };
  }
  if (params.client_id === undefined) throw new HttpFailure(401, 'invalid_client', 'client authentication is required');
  if (params.client_secret !== undefined) {
    return { client: { method: 'client_secret_post', clientId: params.client_id, clientSecret: params.client_secret }, rest };
  }
  return { client: { method: 'none', clientId: params.client_id }, rest };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
function parseBasic(header: string): { clientId: string; clientSecret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match) throw new HttpFailure(401, 'invalid_client', 'malformed Authorization header');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpFailure(401, 'invalid_client', 'malformed Authorization header');
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    if (!clientId || !clientSecret) throw new Error('empty');
    return { clientId, clientSecret };
  } catch {
    throw new HttpFailure(401, 'invalid_client', 'malformed Authorization header');
  }
}
