import { issuerOf, type TenantDirectory } from '@latchkey/config';
import { ContractError, type DecideDeviceCode, DEVICE_CODE_GRANT_TYPE, type DeviceAuthorization, type LookupUserCode, type ParsedRequestOf, type ReplyOf } from '@latchkey/contracts';
import type { ClientAuthenticator } from '../clients/client-authenticator.js';
import type { ClientRepository } from '../clients/client.repository.js';
import { grantScopes, parseScope } from '../tokens/scopes.js';
import type { DeviceCodes } from './device-codes.js';
import type { UserCodeThrottle } from './user-code-throttle.js';
import { formatUserCode, normaliseUserCode } from './user-codes.js';

const notFound = () => new ContractError('not_found', 'unknown or expired user code');

/**
 * RFC 8628 use-cases of the token service: the device authorization endpoint (§3.1–§3.2) and the two
 * steps of the verification page (§3.3): look the user code up, then record the user's decision. The
 * device then polls the token endpoint (grants/device-code.grant.ts).
 *
 * Extension point: approving is where an unowned device can be claimed for the approving user
 * (ARCHITECTURE flow 3). That is the device registry's business; `decide` would ask it after the
 * approval is recorded (docs/adr/0014).
 */
export class DeviceFlow {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly authenticator: ClientAuthenticator,
    private readonly clients: ClientRepository,
    private readonly codes: DeviceCodes,
    private readonly throttle: UserCodeThrottle,
    private readonly publicUrl: string,
  ) {}

  /** `latchkey.token.v1.device-authorization` (RFC 8628 §3.1, §3.2). */
  async authorize(request: ParsedRequestOf<typeof DeviceAuthorization>): Promise<ReplyOf<typeof DeviceAuthorization>> {
    const tenant = this.tenants.get(request.tenant);
    const client = await this.authenticator.authenticate(tenant.id, request.client);
    // RFC 8628 §3.2 + RFC 6749 §5.2: only a client registered for the device grant may start one.
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) throw new ContractError('unauthorized_client', `client is not allowed to use ${DEVICE_CODE_GRANT_TYPE}`);
    const scopes = grantScopes(parseScope(request.parameters.scope), client.scopes);
    const { deviceCode, userCode } = await this.codes.create(tenant.id, client.clientId, scopes);
    const verificationUri = `${issuerOf(this.publicUrl, tenant.id)}/device`;
    const shown = formatUserCode(userCode);
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${shown}`,
      expires_in: this.codes.ttlSeconds,
      interval: this.codes.intervalSeconds,
    };
  }

  /** `latchkey.token.v1.lookup-user-code`: RFC 8628 §3.3 with §5.1 throttling; every miss looks the same. */
  async lookup(request: ParsedRequestOf<typeof LookupUserCode>): Promise<ReplyOf<typeof LookupUserCode>> {
    const tenant = this.tenants.get(request.tenant);
    if (await this.throttle.isLockedOut(tenant.id, request.clientIp)) throw notFound();
    const canonical = normaliseUserCode(request.userCode);
    const row = canonical === null ? null : await this.codes.findPendingByUserCode(tenant.id, canonical);
    const client = row && (await this.clients.find(tenant.id, row.clientId));
    if (!row || !client) {
      await this.throttle.recordFailure(tenant.id, request.clientIp);
      throw notFound();
    }
    return { clientId: client.clientId, clientName: client.displayName ?? client.clientId, scopes: row.scopes };
  }

  /** `latchkey.token.v1.decide-device-code`: the signed-in user approves or denies (RFC 8628 §3.3). */
  async decide(request: ParsedRequestOf<typeof DecideDeviceCode>): Promise<ReplyOf<typeof DecideDeviceCode>> {
    const tenant = this.tenants.get(request.tenant);
    const approve = request.decision === 'approve';
    if (approve && !request.subject) throw new ContractError('invalid_request', 'an approval needs the authenticated subject');
    const canonical = normaliseUserCode(request.userCode);
    if (canonical === null) throw notFound();
    const decided = await this.codes.decide(tenant.id, canonical, approve ? request.subject! : null);
    if (!decided) throw notFound();
    return { approved: approve };
  }
}
