import { DecisionContext, type DecisionGrant, type DeviceView, type GrantView, type NewDevice, type PolicyAttributes } from '@latchkey/contracts';

// Pure pieces of the policy input (policies/README.md "Input and output"): what the gateway knows
// about a device, a grant and a request, in the shape the decision point expects.

/** The contract's limits on attributes: names of `A-Z a-z 0-9 _ . : -`, at most 50. */
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const MAX_ATTRIBUTES = 50;

/**
 * Attributes within the contract: members that are undefined or null are left out (the policy treats
 * "absent" and "unknown" alike), names the contract refuses are dropped, at most 50 are kept.
 */
export function policyAttributes(values: Readonly<Record<string, unknown>>): PolicyAttributes {
  const kept = Object.entries(values).filter(([name, value]) => value !== undefined && value !== null && ATTRIBUTE_NAME.test(name));
  return Object.fromEntries(kept.slice(0, MAX_ATTRIBUTES));
}

/** A device's own `site` attribute, when it is a string. */
function siteOf(attributes: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const site = attributes?.site;
  return typeof site === 'string' ? site : undefined;
}

/**
 * A device as the policy reads it: the registry's view (`serial`, `type`, `status`, `ownerId`,
 * `location`, `firmwareVersion`), its `site` attribute (else the policy takes `location` as the site)
 * and its `tenant`. Timestamps are left out: they change all the time and decide nothing.
 */
export function deviceAttributes(device: DeviceView): PolicyAttributes {
  return policyAttributes({
    serial: device.serial,
    type: device.type,
    status: device.status,
    ownerId: device.ownerId,
    location: device.location,
    firmwareVersion: device.firmwareVersion,
    site: siteOf(device.attributes),
    tenant: device.tenant,
  });
}

/** The device a create request would make, as the policy reads a device. */
export function newDeviceAttributes(tenant: string, device: NewDevice): PolicyAttributes {
  return policyAttributes({
    serial: device.serial,
    type: device.type,
    status: device.activate ? 'active' : 'provisioned',
    ownerId: device.ownerId,
    location: device.location,
    firmwareVersion: device.firmwareVersion,
    site: siteOf(device.attributes),
    tenant,
  });
}

/** The grant of a delegated token, as the delegation service described it when it checked it. */
export function decisionGrant(grant: GrantView): DecisionGrant {
  return {
    id: grant.id,
    status: grant.status,
    delegatee: grant.delegatee.id,
    resource: grant.resource,
    scopes: [...grant.scopes],
    notBefore: grant.notBefore,
    expiresAt: grant.expiresAt,
    constraints: grant.constraints,
  };
}

const IP = DecisionContext.shape.ip;

/** The client address as the contract takes it (an IPv4-mapped IPv6 address as IPv4); undefined when unusable. */
export function contextIp(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const ip = address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return IP.safeParse(ip).success ? ip : undefined;
}

/** A delegated subject (RFC 8693 `act` / `gid`): never cached, decided at a pinned time. */
export function isDelegatedSubject(subject: { act?: unknown; gid?: string | undefined }): boolean {
  return subject.act !== undefined || subject.gid !== undefined;
}
