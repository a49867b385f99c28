import { ClaimDevice } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { clientIpOf } from '../browser/page-security.js';
import { HttpFailure } from '../http/http-errors.js';
import { ApiRoute } from './api-route.js';
import { isClaimCodeFailure } from './claim-failure.js';
import { jsonBody } from './input.js';
import { OPERATIONS } from './operations.js';
import { ClaimBody } from './schemas.js';

/** The one answer for every code that does not work: the caller learns nothing about which codes exist. */
export const CLAIM_CODE_NOT_VALID = 'the claim code is not valid';

/**
 * `POST /t/{t}/v1/devices/claim`: a person (their token, `devices:claim`) presents a device's claim
 * code and becomes its owner. The client IP goes along for the registry's throttling.
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class DeviceClaimApiController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.claimDevice)
  async claim(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown) {
    const { code } = jsonBody(ClaimBody, request, body);
    try {
      return await this.messaging.send(ClaimDevice, { tenant, userId: actor.id, code, clientIp: clientIpOf(request) });
    } catch (error) {
      if (isClaimCodeFailure(error)) throw new HttpFailure(400, 'invalid_grant', CLAIM_CODE_NOT_VALID);
      throw error;
    }
  }
}
