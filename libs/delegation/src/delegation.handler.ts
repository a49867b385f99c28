import { assertStorable, CheckGrant, CreateGrant, DeclineGrant, GetGrant, ListGrants, type ParsedRequestOf, RevokeGrant, UseAllGrants, UseGrant } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { GrantUsage } from './grants/grant-usage.js';
import { Grants } from './grants/grants.js';

/** NATS adapter: the contracts validate, the domain decides. */
@Controller()
export class DelegationHandler {
  constructor(
    @Inject(Grants) private readonly grants: Grants,
    @Inject(GrantUsage) private readonly usage: GrantUsage,
  ) {}

  @Handles(CreateGrant)
  async create(request: ParsedRequestOf<typeof CreateGrant>) {
    assertStorable(request);
    return { grant: await this.grants.create(request) };
  }

  @Handles(ListGrants)
  list({ tenant, ...query }: ParsedRequestOf<typeof ListGrants>) {
    assertStorable(query);
    return this.grants.list(tenant, query);
  }

  @Handles(GetGrant)
  get(request: ParsedRequestOf<typeof GetGrant>) {
    return this.grants.get(request.tenant, request.grantId, request.actor, request.admin);
  }

  @Handles(RevokeGrant)
  revoke(request: ParsedRequestOf<typeof RevokeGrant>) {
    assertStorable(request);
    return this.grants.revoke(request.tenant, request.grantId, request.actor, request.admin, request.reason);
  }

  @Handles(DeclineGrant)
  async decline(request: ParsedRequestOf<typeof DeclineGrant>) {
    assertStorable(request);
    return { grant: await this.grants.decline(request.tenant, request.grantId, request.actor, request.reason) };
  }

  @Handles(UseGrant)
  use(request: ParsedRequestOf<typeof UseGrant>) {
    assertStorable(request);
    return this.usage.use(request);
  }

  @Handles(UseAllGrants)
  async useAll(request: ParsedRequestOf<typeof UseAllGrants>) {
    assertStorable(request);
    return { grants: await this.usage.useAll(request.tenant, request.delegatee) };
  }

  @Handles(CheckGrant)
  check(request: ParsedRequestOf<typeof CheckGrant>) {
    return this.usage.check(request);
  }
}
