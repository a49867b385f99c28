import { ActivatePolicyBundle, GetPolicyStatus, type PolicyStatus, UpdatePolicyData } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { RAW_BODY_MEDIA_TYPES } from '../http/api-bodies.js';
import { HttpFailure } from '../http/http-errors.js';
import { PolicyDecider } from '../policy/policy-decider.js';
import { ApiRoute } from './api-route.js';
import { jsonBody, mediaTypeOf } from './input.js';
import { OPERATIONS } from './operations.js';
import { PolicyBundleJsonBody, PolicyDataPatch, PolicyResetBody } from './schemas.js';

/** The contract's base64 limit (960,000 characters), in bytes of bundle. */
export const MAX_POLICY_BUNDLE_BYTES = 720_000;

const BUNDLE_TYPES = [...RAW_BODY_MEDIA_TYPES, 'application/json'];

/**
 * The tenant's policy administration (`/t/{t}/admin/v1/policy…`, issue #6, ADR 0022): its status, a
 * new compiled bundle, back to the default, a data merge patch. The policy service validates every
 * change before it activates it (`validation_failed` → 422 with its reason; the active policy keeps
 * serving). Scope-gated, not policy-decided (`POLICY_ADMIN_EXEMPTION` in operations.ts).
 */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class PolicyAdminController {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(PolicyDecider) private readonly decider: PolicyDecider,
  ) {}

  @ApiRoute(OPERATIONS.getPolicyStatus)
  status(@CurrentPrincipal() { tenant }: Principal) {
    return this.messaging.send(GetPolicyStatus, { tenant });
  }

  @ApiRoute(OPERATIONS.activatePolicyBundle)
  activateBundle(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown) {
    const mediaType = mediaTypeOf(request);
    if (mediaType === undefined || mediaType === 'application/json') {
      const { bundle, data, reason } = jsonBody(PolicyBundleJsonBody, request, body);
      return this.changed(this.messaging.send(ActivatePolicyBundle, { tenant, actor, bundle, ...(data !== undefined ? { data } : {}), ...(reason !== undefined ? { reason } : {}) }));
    }
    if (!(RAW_BODY_MEDIA_TYPES as readonly string[]).includes(mediaType) || !Buffer.isBuffer(body)) {
      throw new HttpFailure(415, 'invalid_request', `the body must be ${BUNDLE_TYPES.join(' or ')}`);
    }
    if (body.length === 0) throw new HttpFailure(400, 'invalid_request', 'the body is empty: send the bundle (the tar.gz `opa build -t wasm` writes)');
    if (body.length > MAX_POLICY_BUNDLE_BYTES) throw new HttpFailure(413, 'invalid_request', `a policy bundle is at most ${MAX_POLICY_BUNDLE_BYTES} bytes; this one has ${body.length}`);
    return this.changed(this.messaging.send(ActivatePolicyBundle, { tenant, actor, bundle: body.toString('base64') }));
  }

  @ApiRoute(OPERATIONS.resetPolicy)
  reset(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown) {
    const { reason, clearData } = jsonBody(PolicyResetBody, request, body, { optional: true });
    return this.changed(this.messaging.send(ActivatePolicyBundle, { tenant, actor, useDefault: true, ...(clearData ? { data: {} } : {}), ...(reason !== undefined ? { reason } : {}) }));
  }

  @ApiRoute(OPERATIONS.updatePolicyData)
  updateData(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown) {
    const patch = jsonBody(PolicyDataPatch, request, body, { mediaTypes: OPERATIONS.updatePolicyData.body.mediaTypes });
    return this.changed(this.messaging.send(UpdatePolicyData, { tenant, actor, patch }));
  }

  /**
   * This gateway forgets the allows it cached: its next decisions are the new policy's. (Other
   * replicas keep theirs for at most their TTL, ADR 0018.)
   */
  private async changed(activation: Promise<PolicyStatus>): Promise<PolicyStatus> {
    const status = await activation;
    this.decider.cache.clear();
    return status;
  }
}
