import { GetDevice } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Inject, UseGuards } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { ApiRoute } from './api-route.js';
import { OPERATIONS } from './operations.js';

/**
 * `GET /t/{t}/v1/devices/me`: a device reads its own registration (attributes, location, owner) with
 * its own token. It is also the simplest resource a device token opens, so it shows the shared guard
 * refusing a suspended device's token at once.
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DeviceSelfController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.getOwnDevice)
  me(@CurrentPrincipal() { tenant, actor }: Principal) {
    return this.messaging.send(GetDevice, { tenant, deviceId: actor.id });
  }
}
