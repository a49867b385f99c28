import type { PolicyAction } from '@latchkey/contracts';

/** What a route's policy decision is about: how the guard's policy step builds `resource`. */
export type PolicyResourceKind =
  /**
   * The device of the path: `:id` (a UUID, `GetDevice`) or `:idOrSerial` (`GetDevice` or
   * `FindDeviceBySerial`). Its attributes are the registry's; an unknown device is the route's 404,
   * answered before the decision point is asked.
   */
  | 'device'
  /** The device the body creates: its `serial`, `type`, `location`, `site`, owner and initial status. */
  | 'new-device'
  /** The tenant itself, `{ type: 'tenant', id: <tenant> }` (bulk provisioning). */
  | 'tenant'
  /**
   * Every device of the tenant, `{ type: 'device', id: '*' }`: a tenant-wide role. A list narrowed by
   * `owner=<id>` or `attr.site=<site>` carries that `ownerId` / `site` as attributes, so that an owner
   * may list their devices and an operator their site's.
   */
  | 'device-list';

/** The policy action a route asks the decision point about, and what it is done to. */
export interface PolicyRule {
  action: PolicyAction;
  resource: PolicyResourceKind;
}

/**
 * A route behind the token guard that deliberately asks no policy: the reason says who checks what
 * instead (e.g. "the delegation service checks ownership"). Absence is not an exemption: a route
 * behind the guard without either is a programming error at boot.
 */
export interface PolicyExemption {
  exempt: string;
}

export type RoutePolicy = PolicyRule | PolicyExemption;

export function isPolicyRule(policy: RoutePolicy): policy is PolicyRule {
  return 'action' in policy;
}
