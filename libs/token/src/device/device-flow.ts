import { issuerOf, type TenantDirectory } from '@latchkey/config';
import {
  BindDeviceOwner,
  ContractError,
  type DecideDeviceCode,
  DEVICE_CODE_GRANT_TYPE,
  type DeviceAuthorization,
  type LookupUserCode,
  type ParsedRequestOf,
  type ReplyOf,
} from '@latchkey/contracts';
import type { ClientAuthenticator } from '../clients/client-authenticator.js';
import type { ClientRepository } from '../clients/client.repository.js';
import type { DeviceRegistryClient } from '../clients/device-clients.js';
import { grantScopes, parseScope } from '../tokens/scopes.js';
import type { DeviceCodeRow, DeviceCodes } from './device-codes.js';
import type { UserCodeThrottle } from './user-code-throttle.js';
import { formatUserCode, normaliseUserCode } from './user-codes.js';

const notFound = () => new ContractError('not_found', 'unknown or expired user code');

/**
 * RFC 8628 use-cases of the token service: the device authorization endpoint (§3.1–§3.2) and the two
 * steps of the verification page (§3.3): look the user code up, then record the user's decision. The
 * device then polls the token endpoint (grants/device-code.grant.ts).
 *
 * When the client is a device of the registry (client_id = device id, docs/adr/0017), approving also
 * claims the device for the approving user if it has no owner yet (ARCHITECTURE flow 3): the registry
 * binds it before the approval is recorded, so a registry that cannot answer fails the approval with
 * `unavailable` and the code stays pending for the user to try again — no approval without its binding.
 */
export class DeviceFlow {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly authenticator: ClientAuthenticator,
    private readonly clients: ClientRepository,
    private readonly codes: DeviceCodes,
    private readonly throttle: UserCodeThrottle,
    private readonly publicUrl: string,
    private readonly registry: DeviceRegistryClient,
  ) {}

  /** `latchkey.token.v1.device-authorization` (RFC 8628 §3.1, §3.2). */
  async authorize(request: ParsedRequestOf<typeof DeviceAuthorization>): Promise<ReplyOf<typeof DeviceAuthorization>> {
    const tenant = this.tenants.get(request.tenant);
    const client = await this.authenticator.authenticate(tenant.id, request.client);
    // RFC 8628 §3.2 + RFC 6749 §5.2: only a client registered for the device grant may start one.
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) throw new ContractError('unauthorized_client', `client is not allowed to use ${DEVICE_CODE_GRANT_TYPE}`);
    const scopes = grantScopes(parseScope(request.parameters.scope), client.scopes);
    const { deviceCode, userCode } = await this.codes.create(tenant.id, client.clientId, scopes, client.device?.type ?? null);
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
    const clientName = row && (await this.clientName(tenant.id, row));
    if (!row || !clientName) {
      await this.throttle.recordFailure(tenant.id, request.clientIp);
      throw notFound();
    }
    return { clientId: row.clientId, clientName, scopes: row.scopes };
  }

  /** What the verification page calls the client: a registered client's name, or a device's type. */
  private async clientName(tenant: string, row: DeviceCodeRow): Promise<string | null> {
    if (row.deviceType !== null) {
      const type = this.tenants.get(tenant).deviceTypes.find((candidate) => candidate.type === row.deviceType);
      return type?.displayName ?? row.deviceType;
    }
    const client = await this.clients.find(tenant, row.clientId);
    return client && (client.displayName ?? client.clientId);
  }

  /** `latchkey.token.v1.decide-device-code`: the signed-in user approves or denies (RFC 8628 §3.3). */
  async decide(request: ParsedRequestOf<typeof DecideDeviceCode>): Promise<ReplyOf<typeof DecideDeviceCode>> {
    const tenant = this.tenants.get(request.tenant);
    const approve = request.decision === 'approve';
    if (approve && !request.subject) throw new ContractError('invalid_request', 'an approval needs the authenticated subject');
    const canonical = normaliseUserCode(request.userCode);
    if (canonical === null) throw notFound();
    if (approve) {
      const row = await this.codes.findPendingByUserCode(tenant.id, canonical);
      if (!row) throw notFound();
      if (row.deviceType !== null) await this.bindOwner(tenant.id, row.clientId, request.subject!.userId);
    }
    const decided = await this.codes.decide(tenant.id, canonical, approve ? request.subject! : null);
    if (!decided) throw notFound();
    return { approved: approve };
  }

  /**
   * ARCHITECTURE flow 3: an unowned device becomes the approving user's; one that has an owner keeps it.
   * Done before the approval is recorded. If the approval then loses a race (decided or expired in
   * between), the user who typed the device's code owns it anyway: the same proof of presence a claim
   * code is. A device that is gone or decommissioned makes the code worthless (`not_found`); a registry
   * that cannot answer is `unavailable`, and the code stays pending.
   */
  private async bindOwner(tenant: string, deviceId: string, userId: string): Promise<void> {
    try {
      await this.registry.send(BindDeviceOwner, { tenant, deviceId, userId });
    } catch (error) {
      if (ContractError.is(error, 'not_found') || ContractError.is(error, 'conflict')) throw notFound();
      throw error;
    }
  }
}
