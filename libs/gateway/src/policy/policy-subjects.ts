import { ContractError, type DecisionSubject, DeviceId, GetDevice, GetUser, type PolicyAttributes } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Inject, Injectable } from '@nestjs/common';
import { actorOf, type Principal } from '../auth/principal.js';
import { GatewayTenants } from '../tenants.js';
import { policyAttributes } from './decision-input.js';

/** What the platform knows of a subject's authorization: its roles and attributes. */
export interface SubjectFacts {
  roles: string[];
  attributes: PolicyAttributes;
}

const NOTHING: SubjectFacts = { roles: [], attributes: {} };

/**
 * Who a subject is for the policy (policies/README.md "A subject's roles"): a person's roles and
 * attributes from the identity service (`GetUser`; a disabled or unknown user has none), an app's
 * roles from the tenants file (`clients[].roles`), a device's type (the policy maps device types to
 * roles) and site from its token and the registry. The policy's own data may bind more.
 */
@Injectable()
export class PolicySubjects {
  constructor(
    @Inject(ContractClient) private readonly messaging: ContractClient,
    @Inject(GatewayTenants) private readonly tenants: GatewayTenants,
  ) {}

  /**
   * The subject of a verified token: `sub` with the token's scopes; for a delegated token (RFC 8693)
   * the person acted for (`sub`, whose rights the grant narrows) with `act` and `gid`.
   */
  async ofPrincipal(principal: Principal): Promise<DecisionSubject> {
    const { tenant, claims } = principal;
    const scopes = [...principal.scopes];
    if (principal.onBehalfOf !== null) {
      return { type: 'user', id: claims.sub, ...(await this.user(tenant, claims.sub)), scopes, ...(principal.act ? { act: principal.act } : {}), ...(principal.gid ? { gid: principal.gid } : {}) };
    }
    const actor = actorOf(claims);
    if (actor.type === 'device') return { type: 'device', id: claims.sub, ...(await this.device(tenant, claims.sub, claims.device_type)), scopes };
    if (actor.type === 'client') return { type: 'client', id: claims.sub, ...this.client(tenant, claims.sub), scopes };
    return { type: 'user', id: claims.sub, ...(await this.user(tenant, claims.sub)), scopes };
  }

  /** An active person's roles and attributes (e.g. `sites`); none for a disabled or unknown one. */
  async user(tenant: string, userId: string): Promise<SubjectFacts> {
    if (userId.length > 200) return NOTHING;
    const { user } = await this.messaging.send(GetUser, { tenant, userId });
    if (!user || user.status !== 'active') return NOTHING;
    return { roles: [...user.roles], attributes: policyAttributes(user.attributes) };
  }

  /** An app's roles, as the tenants file declares them. */
  client(tenant: string, clientId: string): SubjectFacts {
    return { roles: [...(this.tenants.client(tenant, clientId)?.roles ?? [])], attributes: {} };
  }

  /**
   * A device: its type (`deviceType`, which the policy maps to roles) and its site (its `site`
   * attribute, else its location), from the registry; `deviceType` from the token when it says.
   * An unknown device is only its token's type.
   */
  async device(tenant: string, deviceId: string, tokenDeviceType?: string): Promise<SubjectFacts> {
    let registered: { type: string; site?: string } | undefined;
    if (DeviceId.safeParse(deviceId).success) {
      try {
        const { device } = await this.messaging.send(GetDevice, { tenant, deviceId });
        const site = typeof device.attributes.site === 'string' ? device.attributes.site : (device.location ?? undefined);
        registered = { type: device.type, ...(site ? { site } : {}) };
      } catch (error) {
        if (!ContractError.is(error, 'not_found')) throw error;
      }
    }
    return { roles: [], attributes: policyAttributes({ deviceType: tokenDeviceType ?? registered?.type, site: registered?.site }) };
  }
}
