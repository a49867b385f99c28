import { ActivatePolicyBundle, Decide, DecideBatch, GetPolicyStatus, type ParsedRequestOf, UpdatePolicyData } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { DecisionPoint } from './decisions/decision-point.js';
import { TenantPolicies } from './tenants/tenant-policies.js';

/** NATS adapter of the policy service: the contracts validate, the decision point and the tenant policies decide. */
@Controller()
export class PolicyHandler {
  constructor(
    @Inject(DecisionPoint) private readonly decisions: DecisionPoint,
    @Inject(TenantPolicies) private readonly policies: TenantPolicies,
  ) {}

  @Handles(Decide)
  decide({ tenant, ...input }: ParsedRequestOf<typeof Decide>) {
    return this.decisions.decide(tenant, input);
  }

  @Handles(DecideBatch)
  decideBatch({ tenant, decisions }: ParsedRequestOf<typeof DecideBatch>) {
    return { results: this.decisions.decideBatch(tenant, decisions) };
  }

  @Handles(GetPolicyStatus)
  status({ tenant }: ParsedRequestOf<typeof GetPolicyStatus>) {
    return this.policies.status(tenant);
  }

  @Handles(ActivatePolicyBundle)
  activate({ tenant, actor, bundle, useDefault, data, reason }: ParsedRequestOf<typeof ActivatePolicyBundle>) {
    return this.policies.activate(tenant, actor, { archive: bundle === undefined ? undefined : Buffer.from(bundle, 'base64'), useDefault, data }, reason);
  }

  @Handles(UpdatePolicyData)
  updateData({ tenant, actor, patch, reason }: ParsedRequestOf<typeof UpdatePolicyData>) {
    return this.policies.updateData(tenant, actor, patch, reason);
  }
}
