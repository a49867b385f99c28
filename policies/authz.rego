# METADATA
# title: Latchkey default authorization policy
# description: |
#   RBAC (roles bound to subjects by their tokens, by data bindings and, for devices, by device type)
#   and ABAC (device type, site / location, owner, firmware version, device status, tenant, time of
#   day and validity window of a delegation grant, the token's scopes and `act`). Deny by default.
#   Entrypoint: latchkey/authz/decision. Vocabulary and data shape: policies/README.md.
package latchkey.authz

subject := input.subject

resource := input.resource

action_name := input.action.name

action := data.actions[action_name]

# ---------------------------------------------------------------------------------------------------
# The decision: allowed when something permits the action and nothing forbids it.
# ---------------------------------------------------------------------------------------------------

default allow := false

allow if {
	count(allow_reasons) > 0
	count(deny_reasons) == 0
}

reasons := sort(allow_reasons) if allow

reasons := sort(deny_reasons) if not allow

# How long a caller may reuse an allow decision for the same input (0: ask every time). Never for a
# delegated subject: its grant's window and constraints depend on the clock.
default ttl_seconds := 0

ttl_seconds := action.cacheTtlSeconds if {
	allow
	not delegated
}

# What the enforcement point must do with an allow: record who actually acted for a delegated subject.
default obligations := {}

obligations := {"audit": {"act": subject.act}} if {
	allow
	subject.act
}

decision := {
	"allow": allow,
	"reasons": reasons,
	"ttl_seconds": ttl_seconds,
	"obligations": obligations,
}

# ---------------------------------------------------------------------------------------------------
# RBAC: the subject's roles, and what each role permits where.
# ---------------------------------------------------------------------------------------------------

binding := data.bindings[subject.type][subject.id]

roles contains role if some role in subject.roles

roles contains role if some role in binding.roles

roles contains role if {
	subject.type == "device"
	some role in data.deviceTypes[subject.attributes.deviceType].roles
}

subject_sites contains site if some site in binding.sites

subject_sites contains site if some site in subject.attributes.sites

subject_sites contains subject.attributes.site

resource_site := site if {
	site := resource.attributes.site
} else := location if {
	location := resource.attributes.location
}

names_action(permission) if action_name in permission.actions

names_action(permission) if "*" in permission.actions

# Where a permission applies, by its `scope`.
in_scope("tenant")

in_scope("site") if resource_site in subject_sites

in_scope("owner") if {
	resource.attributes.ownerId == subject.id
}

in_scope("self") if {
	resource.type == subject.type
	resource.id == subject.id
}

scope_text := {
	"tenant": "any resource of the tenant",
	"site": "resources at the subject's own sites",
	"owner": "resources the subject owns",
	"self": "the subject itself",
}

rule_of_action := object.get(action, "rule", "roles")

permitting_roles contains role if {
	rule_of_action == "roles"
	some role in roles
	some permission in data.roles[role].permissions
	names_action(permission)
	in_scope(permission.scope)
}

allow_reasons contains concat("", ["role ", role, " permits ", action_name]) if some role in permitting_roles

deny_reasons contains concat("", ["no_permission: no role of the subject permits ", action_name, " on this resource"]) if {
	action
	rule_of_action == "roles"
	count(permitting_roles) == 0
}

deny_reasons contains msg if {
	rule_of_action == "roles"
	count(permitting_roles) == 0
	some role in roles
	some permission in data.roles[role].permissions
	names_action(permission)
	not in_scope(permission.scope)
	msg := concat("", ["out_of_scope: role ", role, " permits ", action_name, " only on ", object.get(scope_text, permission.scope, "nothing (unknown scope)")])
}

# ---------------------------------------------------------------------------------------------------
# token.scope: may the subject be given this scope? Scopes listed in data.scopes are restricted to
# some roles (for the subject types the restriction names); any other scope is left to the client's
# own configuration.
# ---------------------------------------------------------------------------------------------------

scope_restriction := data.scopes[resource.id]

allow_reasons contains "scope_unrestricted: the policy does not restrict this scope" if {
	rule_of_action == "scope"
	not scope_restriction
}

allow_reasons contains "scope_unrestricted: the scope is restricted for other kinds of subject" if {
	rule_of_action == "scope"
	scope_restriction
	not restriction_applies
}

# A restriction without subjectTypes applies to every subject.
restriction_applies if not scope_restriction.subjectTypes

restriction_applies if subject.type in scope_restriction.subjectTypes

allow_reasons contains concat("", ["role ", role, " may hold scope ", resource.id]) if {
	rule_of_action == "scope"
	some role in roles
	role in scope_restriction.roles
}

deny_reasons contains concat("", ["scope_restricted: no role of the subject may hold scope ", resource.id]) if {
	rule_of_action == "scope"
	count(allow_reasons) == 0
}

# ---------------------------------------------------------------------------------------------------
# ABAC: attributes that forbid what a role would permit.
# ---------------------------------------------------------------------------------------------------

deny_reasons contains concat("", ["unknown_action: ", action_name, " is not an action of this policy"]) if not action

deny_reasons contains concat("", ["resource_type_mismatch: ", action_name, " applies to resources of type ", action.resourceType]) if {
	not resource_type_ok
}

resource_type_ok if not action.resourceType

resource_type_ok if resource.type == action.resourceType

deny_reasons contains "tenant_mismatch: the resource belongs to another tenant" if {
	resource.attributes.tenant != input.tenant
}

deny_reasons contains "tenant_mismatch: the subject belongs to another tenant" if {
	subject.attributes.tenant != input.tenant
}

# The token's scopes, when the caller passes them, must include the action's scope.
deny_reasons contains concat("", ["scope_missing: the token lacks scope ", action_scope]) if {
	is_array(subject.scopes)
	action.scope
	not action.scope in subject.scopes
}

action_scope := action.scope if {
	is_string(action.scope)
} else := resource.id if {
	rule_of_action == "scope"
} else := "(the action has none)"

deny_reasons contains concat("", ["device_not_active: ", action_name, " needs an active device (it is ", resource.attributes.status, ")"]) if {
	action.requiresActiveDevice
	resource.attributes.status != "active"
}

deny_reasons contains msg if {
	minimum := action.minFirmware
	version := resource.attributes.firmwareVersion
	not version_at_least(version, minimum)
	msg := concat("", ["firmware_outdated: the device runs ", version, "; ", action_name, " needs firmware ", minimum, " or later"])
}

version_at_least(version, minimum) if version_parts(version) >= version_parts(minimum)

version_parts(version) := [to_number(part) | some part in split(trim_prefix(version, "v"), ".")]

# ---------------------------------------------------------------------------------------------------
# Delegation (RFC 8693 `act`, the grant id `gid`): the delegator's own permission, narrowed by the
# grant passed in context.grant: its validity, resource, scopes, weekdays and time of day.
# ---------------------------------------------------------------------------------------------------

delegated if subject.act

delegated if subject.gid

grant := input.context.grant

deny_reasons contains concat("", ["not_delegable: ", action_name, " cannot be done with a delegated token"]) if {
	delegated
	not action.delegable
}

deny_reasons contains "grant_missing: a delegated subject needs its delegation grant in context.grant" if {
	delegated
	not grant
}

deny_reasons contains "grant_mismatch: the grant is not the one the token was issued under" if {
	delegated
	subject.gid != grant.id
}

deny_reasons contains concat("", ["grant_not_active: the grant is ", grant.status]) if {
	delegated
	grant.status != "active"
}

deny_reasons contains "grant_delegatee_mismatch: the acting party is not the grant's delegatee" if {
	delegated
	grant.delegatee != subject.act.sub
}

deny_reasons contains concat("", ["grant_outside_validity: the grant is valid from ", grant.notBefore, " until ", grant.expiresAt]) if {
	delegated
	grant
	not within_validity
}

deny_reasons contains concat("", ["grant_resource_mismatch: the grant covers ", grant.resource]) if {
	delegated
	grant
	not grant_covers_resource
}

deny_reasons contains concat("", ["grant_scope_missing: the grant does not include scope ", action_scope]) if {
	delegated
	grant
	not grant_includes_action
}

grant_includes_action if action.scope in grant.scopes

# token.scope: the scope asked about is the resource itself.
grant_includes_action if {
	rule_of_action == "scope"
	resource.id in grant.scopes
}

deny_reasons contains concat("", ["grant_outside_weekdays: the grant allows ", concat(",", grant.constraints.weekdays), " (", grant.constraints.timeZone, ")"]) if {
	delegated
	grant.constraints.weekdays
	not within_weekdays
}

deny_reasons contains msg if {
	delegated
	window := grant.constraints.timeOfDay
	not within_time_of_day
	msg := concat("", ["grant_outside_time_of_day: the grant allows ", window.from, "-", window.to, " (", grant.constraints.timeZone, ")"])
}

now_ns := time.parse_rfc3339_ns(input.context.time)

within_validity if {
	time.parse_rfc3339_ns(grant.notBefore) <= now_ns
	now_ns < time.parse_rfc3339_ns(grant.expiresAt)
}

grant_covers_resource if grant.resource == "*"

# token.scope: the resource is a scope, not something the grant names; the scope is checked above.
grant_covers_resource if rule_of_action == "scope"

grant_covers_resource if grant.resource == concat("", ["device:", resource.attributes.serial])

local_clock := [now_ns, grant.constraints.timeZone]

weekday_names := {
	"Monday": "mon", "Tuesday": "tue", "Wednesday": "wed", "Thursday": "thu",
	"Friday": "fri", "Saturday": "sat", "Sunday": "sun",
}

within_weekdays if weekday_names[time.weekday(local_clock)] in grant.constraints.weekdays

within_time_of_day if {
	window := grant.constraints.timeOfDay
	[hour, minute, _] := time.clock(local_clock)
	in_window((hour * 60) + minute, minutes_of(window.from), minutes_of(window.to))
}

minutes_of(clock) := (to_number(substring(clock, 0, 2)) * 60) + to_number(substring(clock, 3, 2))

# `to` is exclusive; a window whose `to` is before its `from` crosses midnight.
in_window(now, from, to) if {
	from < to
	from <= now
	now < to
}

in_window(now, from, to) if {
	from > to
	not in_gap(now, to, from)
}

in_gap(now, to, from) if {
	to <= now
	now < from
}

# ---------------------------------------------------------------------------------------------------
# Entrypoint latchkey/authz/data_errors: what is wrong with the data. Not part of any decision; the
# policy service evaluates it before activating data and refuses data that has errors.
# ---------------------------------------------------------------------------------------------------

data_errors contains "data.actions must be an object of action definitions" if not is_object(data.actions)

data_errors contains concat("", ["action ", name, ": must be an object"]) if {
	some name, definition in data.actions
	not is_object(definition)
}

data_errors contains concat("", ["action ", name, ": cacheTtlSeconds must be a number"]) if {
	some name, definition in data.actions
	definition.cacheTtlSeconds
	not is_number(definition.cacheTtlSeconds)
}

data_errors contains concat("", ["action ", name, ": scope must be a scope token (a string)"]) if {
	some name, definition in data.actions
	some "scope", scope in definition
	not is_string(scope)
}

data_errors contains concat("", ["action ", name, ": rule must be \"roles\" or \"scope\""]) if {
	some name, definition in data.actions
	definition.rule
	not definition.rule in {"roles", "scope"}
}

data_errors contains "data.roles must be an object of role definitions" if not is_object(data.roles)

data_errors contains concat("", ["role ", name, ": permissions must be a list"]) if {
	some name, role in data.roles
	not is_array(role.permissions)
}

data_errors contains concat("", ["role ", name, ": every permission needs a list of actions"]) if {
	some name, role in data.roles
	some permission in role.permissions
	not is_array(permission.actions)
}

data_errors contains concat("", ["role ", name, ": a permission's scope must be tenant, site, owner or self"]) if {
	some name, role in data.roles
	some permission in role.permissions
	not scope_text[permission.scope]
}

data_errors contains concat("", ["bindings.", kind, ".", id, ": roles and sites must be lists"]) if {
	some kind, bindings in data.bindings
	some id, bound in bindings
	some field in ["roles", "sites"]
	bound[field]
	not is_array(bound[field])
}

data_errors contains concat("", ["deviceTypes.", type, ": roles must be a list"]) if {
	some type, definition in data.deviceTypes
	not is_array(definition.roles)
}
