import { ContractClient } from '@latchkey/messaging';
import { Controller, Inject, UseGuards } from '@nestjs/common';
import { ApiRoute } from '../admin/api-route.js';
import { OPERATIONS } from '../admin/operations.js';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { CurrentDecision, type RouteDecision } from '../policy/route-policy-gate.js';
import type { DeviceCommand } from './commands.js';
import { sendCommand } from './send-command.js';

/**
 * The demo resource endpoint (`POST /t/{t}/v1/devices/{idOrSerial}/commands/{command}`): what a lock's
 * backend would expose. It accepts delegated tokens (the guard has checked their grant); one route per
 * command so that each carries its own scope and policy action in the operations table. The guard's
 * policy step resolved the device (id or serial) and decided; the command goes to that device.
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DeviceCommandsController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.unlockCommand)
  unlock(@CurrentPrincipal() principal: Principal, @CurrentDecision() decision: RouteDecision) {
    return this.send(principal, decision, 'unlock');
  }

  @ApiRoute(OPERATIONS.lockCommand)
  lock(@CurrentPrincipal() principal: Principal, @CurrentDecision() decision: RouteDecision) {
    return this.send(principal, decision, 'lock');
  }

  @ApiRoute(OPERATIONS.configureCommand)
  configure(@CurrentPrincipal() principal: Principal, @CurrentDecision() decision: RouteDecision) {
    return this.send(principal, decision, 'configure');
  }

  private send(principal: Principal, { device, auditAct }: RouteDecision, command: DeviceCommand) {
    if (!device) throw new Error('the policy step of a command resolves the device');
    return sendCommand(this.messaging, principal, device, command, auditAct);
  }
}
