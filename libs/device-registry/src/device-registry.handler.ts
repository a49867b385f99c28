import { AddDeviceCredential, assertStorable, AuthenticateDevice, BindDeviceOwner, BulkProvisionDevices, ChangeDeviceStatus, ClaimDevice, CreateDevice, FindDeviceBySerial, GetDevice, GetDeviceAudit, IssueClaimCode, ListDevices, type ParsedRequestOf, RecordDeviceCommand, RevokeDeviceCredential, UpdateDevice } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { DeviceAuthentication } from './authentication/device-authentication.js';
import { ClaimCodes } from './claims/claim-codes.js';
import { Credentials } from './credentials/credentials.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { BulkProvisioning } from './provisioning/bulk-provisioning.js';

/**
 * NATS adapter: the contracts validate, the domain decides. Text that PostgreSQL cannot store (NUL,
 * unpaired surrogates) is refused here for every operation that stores what it is given.
 */
@Controller()
export class DeviceRegistryHandler {
  constructor(
    @Inject(DeviceRegistry) private readonly devices: DeviceRegistry,
    @Inject(Credentials) private readonly credentials: Credentials,
    @Inject(ClaimCodes) private readonly claimCodes: ClaimCodes,
    @Inject(BulkProvisioning) private readonly bulk: BulkProvisioning,
    @Inject(DeviceAuthentication) private readonly authentication: DeviceAuthentication,
  ) {}

  @Handles(CreateDevice)
  create(request: ParsedRequestOf<typeof CreateDevice>) {
    assertStorable(request);
    return this.devices.create(request.tenant, request.actor, request.device);
  }

  @Handles(GetDevice)
  get(request: ParsedRequestOf<typeof GetDevice>) {
    return this.devices.get(request.tenant, request.deviceId);
  }

  @Handles(FindDeviceBySerial)
  findBySerial(request: ParsedRequestOf<typeof FindDeviceBySerial>) {
    assertStorable(request);
    return this.devices.findBySerial(request.tenant, request.serial);
  }

  @Handles(RecordDeviceCommand)
  recordCommand({ tenant, deviceId, ...command }: ParsedRequestOf<typeof RecordDeviceCommand>) {
    assertStorable(command);
    return this.devices.recordCommand(tenant, deviceId, command);
  }

  @Handles(ListDevices)
  list({ tenant, ...query }: ParsedRequestOf<typeof ListDevices>) {
    assertStorable(query);
    return this.devices.list(tenant, query);
  }

  @Handles(UpdateDevice)
  async update(request: ParsedRequestOf<typeof UpdateDevice>) {
    assertStorable(request);
    return { device: await this.devices.update(request.tenant, request.actor, request.deviceId, request.changes, request.reason) };
  }

  @Handles(ChangeDeviceStatus)
  changeStatus(request: ParsedRequestOf<typeof ChangeDeviceStatus>) {
    assertStorable(request);
    return this.devices.changeStatus(request.tenant, request.actor, request.deviceId, request.action, request.reason);
  }

  @Handles(AddDeviceCredential)
  addCredential(request: ParsedRequestOf<typeof AddDeviceCredential>) {
    assertStorable(request);
    return this.credentials.add(request.tenant, request.actor, request.deviceId, request.credential, request.reason);
  }

  @Handles(RevokeDeviceCredential)
  async revokeCredential(request: ParsedRequestOf<typeof RevokeDeviceCredential>) {
    assertStorable(request);
    return { credential: await this.credentials.revoke(request.tenant, request.actor, request.deviceId, request.credentialId, request.reason) };
  }

  @Handles(GetDeviceAudit)
  audit(request: ParsedRequestOf<typeof GetDeviceAudit>) {
    return this.devices.audit(request.tenant, request.deviceId, request.limit, request.cursor);
  }

  @Handles(BulkProvisionDevices)
  async bulkProvision(request: ParsedRequestOf<typeof BulkProvisionDevices>) {
    // Rows are checked one by one: a bad row is that row's problem.
    assertStorable(request.actor);
    return { rows: await this.bulk.provision(request.tenant, request.actor, request.rows, request.firstRow) };
  }

  @Handles(IssueClaimCode)
  async issueClaimCode(request: ParsedRequestOf<typeof IssueClaimCode>) {
    assertStorable(request);
    return { claimCode: await this.claimCodes.issue(request.tenant, request.actor, request.deviceId, request.ttlSeconds) };
  }

  @Handles(ClaimDevice)
  async claim(request: ParsedRequestOf<typeof ClaimDevice>) {
    assertStorable(request);
    return { device: await this.claimCodes.claim(request.tenant, request.userId, request.code, request.clientIp) };
  }

  @Handles(AuthenticateDevice)
  async authenticate(request: ParsedRequestOf<typeof AuthenticateDevice>) {
    return { device: await this.authentication.authenticate(request.tenant, request.deviceId, request.proof) };
  }

  @Handles(BindDeviceOwner)
  bindOwner(request: ParsedRequestOf<typeof BindDeviceOwner>) {
    assertStorable(request);
    return this.devices.bindOwner(request.tenant, request.deviceId, request.userId);
  }
}
