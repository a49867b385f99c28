import { ListSigningKeys, RotateSigningKey } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { ApiRoute } from './api-route.js';
import { jsonBody } from './input.js';
import { OPERATIONS } from './operations.js';
import { RotateSigningKeyBody } from './schemas.js';

/**
 * The tenant's signing keys (`/t/{t}/admin/v1/signing-keys…`, docs/adr/0010): what they are, and a
 * rotation on demand. The token service owns the keys and their life cycle; the policy decides who
 * may (`keys.read`, `keys.rotate` on the tenant).
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class SigningKeysAdminController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.listSigningKeys)
  list(@CurrentPrincipal() { tenant }: Principal) {
    return this.messaging.send(ListSigningKeys, { tenant });
  }

  @ApiRoute(OPERATIONS.rotateSigningKey)
  rotate(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown) {
    const { reason } = jsonBody(RotateSigningKeyBody, request, body, { optional: true });
    return this.messaging.send(RotateSigningKey, { tenant, actor, ...(reason !== undefined ? { reason } : {}) });
  }
}
