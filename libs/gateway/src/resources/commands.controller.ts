import { ContractClient } from '@latchkey/messaging';
import { Controller, Inject, Param, UseGuards } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { ApiRoute } from '../admin/api-route.js';
import { OPERATIONS } from '../admin/operations.js';
import { sendCommand } from './send-command.js';

/**
 * The demo resource endpoint (`POST /t/{t}/v1/devices/{idOrSerial}/commands/{command}`): what a lock's
 * backend would expose. It accepts delegated tokens (the guard has checked their grant); one route per
 * command so that each carries its own scope in the operations table.
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DeviceCommandsController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.unlockCommand)
  unlock(@CurrentPrincipal() principal: Principal, @Param('idOrSerial') reference: string) {
    return sendCommand(this.messaging, principal, reference, 'unlock');
  }

  @ApiRoute(OPERATIONS.lockCommand)
  lock(@CurrentPrincipal() principal: Principal, @Param('idOrSerial') reference: string) {
    return sendCommand(this.messaging, principal, reference, 'lock');
  }

  @ApiRoute(OPERATIONS.configureCommand)
  configure(@CurrentPrincipal() principal: Principal, @Param('idOrSerial') reference: string) {
    return sendCommand(this.messaging, principal, reference, 'configure');
  }
}
