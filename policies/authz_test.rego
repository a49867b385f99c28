package latchkey.authz_test

import data.latchkey.authz

# A Thursday: 2026-11-19 19:30 in Zurich (UTC+1).
thursday_evening := "2026-11-19T18:30:00Z"

lock := {"type": "device", "id": "dev-lock-1", "attributes": {
	"serial": "lock-1", "type": "bike-lock", "ownerId": "adam",
	"status": "active", "site": "zurich", "firmwareVersion": "1.4.2",
}}

sensor_device := {"type": "device", "id": "dev-sensor-1", "attributes": {"deviceType": "sensor", "site": "zurich"}}

sensor_resource := {"type": "device", "id": "dev-sensor-1", "attributes": {"type": "sensor", "status": "active", "site": "zurich"}}

operator := {"type": "user", "id": "olga", "roles": ["operator"], "attributes": {"sites": ["zurich"]}}

decide(subject, action, resource) := decide_at(subject, action, resource, {"time": thursday_evening})

decide_at(subject, action, resource, context) := decision if {
	decision := authz.decision with input as {
		"tenant": "demo",
		"subject": subject,
		"action": {"name": action},
		"resource": resource,
		"context": context,
	}
}

has_reason(decision, prefix) if {
	some reason in decision.reasons
	startswith(reason, prefix)
}

# --- admin ------------------------------------------------------------------------------------------

test_admin_may_decommission_any_device if {
	d := decide({"type": "user", "id": "ada", "roles": ["admin"]}, "devices.decommission", lock)
	d.allow
	d.reasons == ["role admin permits devices.decommission"]
}

test_admin_is_still_bound_by_the_tokens_scopes if {
	d := decide({"type": "user", "id": "ada", "roles": ["admin"], "scopes": ["devices:read"]}, "devices.decommission", lock)
	not d.allow
	d.reasons == ["scope_missing: the token lacks scope devices:write"]
}

# --- operator ---------------------------------------------------------------------------------------

test_operator_may_suspend_devices_in_their_site if {
	d := decide(operator, "devices.suspend", lock)
	d.allow
}

test_operator_may_not_suspend_devices_in_another_site if {
	d := decide(operator, "devices.suspend", json.patch(lock, [{"op": "replace", "path": "/attributes/site", "value": "geneva"}]))
	not d.allow
	has_reason(d, "out_of_scope: role operator permits devices.suspend only on resources at the subject's own sites")
	has_reason(d, "no_permission:")
}

test_operator_site_from_data_binding_and_location if {
	bound := {"type": "user", "id": "olga"}
	at_geneva := {"type": "device", "id": "d2", "attributes": {"location": "geneva"}}
	d := decide(bound, "devices.suspend", at_geneva) with data.bindings as {"user": {"olga": {"roles": ["operator"], "sites": ["geneva"]}}}
	d.allow
}

test_operator_may_not_decommission if {
	d := decide(operator, "devices.decommission", lock)
	not d.allow
	d.reasons == ["no_permission: no role of the subject permits devices.decommission on this resource"]
}

# --- viewer -----------------------------------------------------------------------------------------

test_viewer_may_read_and_the_answer_may_be_cached if {
	d := decide({"type": "user", "id": "vic", "roles": ["viewer"]}, "devices.read", lock)
	d.allow
	d.ttl_seconds == 30
}

test_viewer_may_not_update if {
	not decide({"type": "user", "id": "vic", "roles": ["viewer"]}, "devices.update", lock).allow
}

# --- device-owner -----------------------------------------------------------------------------------

test_owner_may_unlock_their_lock if {
	d := decide({"type": "user", "id": "adam", "roles": ["device-owner"]}, "device.command.unlock", lock)
	d.allow
	d.ttl_seconds == 0
}

test_owner_may_not_unlock_someone_elses_lock if {
	d := decide({"type": "user", "id": "bianca", "roles": ["device-owner"]}, "device.command.unlock", lock)
	not d.allow
	has_reason(d, "out_of_scope: role device-owner permits device.command.unlock only on resources the subject owns")
}

test_owner_may_not_suspend if {
	not decide({"type": "user", "id": "adam", "roles": ["device-owner"]}, "devices.suspend", lock).allow
}

# --- devices: sensor and controller -----------------------------------------------------------------

test_sensor_may_publish_its_own_telemetry if {
	d := decide(sensor_device, "device.telemetry.publish", sensor_resource)
	d.allow
	d.reasons == ["role sensor permits device.telemetry.publish"]
	d.ttl_seconds == 60
}

test_sensor_may_not_unlock if {
	d := decide(object.union(sensor_device, {"scopes": ["telemetry:write"]}), "device.command.unlock", lock)
	not d.allow
	has_reason(d, "no_permission: no role of the subject permits device.command.unlock")
	has_reason(d, "scope_missing: the token lacks scope lock:unlock")
}

test_sensor_may_not_publish_for_another_device if {
	d := decide(sensor_device, "device.telemetry.publish", lock)
	not d.allow
	has_reason(d, "out_of_scope: role sensor permits device.telemetry.publish only on the subject itself")
}

test_suspended_sensor_may_not_publish if {
	d := decide(sensor_device, "device.telemetry.publish", json.patch(sensor_resource, [{"op": "replace", "path": "/attributes/status", "value": "suspended"}]))
	not d.allow
	d.reasons == ["device_not_active: device.telemetry.publish needs an active device (it is suspended)"]
}

test_controller_may_unlock_at_its_site_only if {
	controller := {"type": "device", "id": "ctl-1", "attributes": {"deviceType": "controller", "site": "zurich"}}
	decide(controller, "device.command.unlock", lock).allow
	not decide(controller, "device.command.unlock", json.patch(lock, [{"op": "replace", "path": "/attributes/site", "value": "bern"}])).allow
}

test_device_roles_follow_data_device_types if {
	d := decide(sensor_device, "device.telemetry.publish", sensor_resource) with data.deviceTypes as {}
	not d.allow
}

# --- firmware, tenant, vocabulary -------------------------------------------------------------------

test_configure_needs_firmware_1_0_0_or_later if {
	owner := {"type": "user", "id": "adam", "roles": ["device-owner"]}
	decide(owner, "device.command.configure", lock).allow
	old := json.patch(lock, [{"op": "replace", "path": "/attributes/firmwareVersion", "value": "0.9.12"}])
	d := decide(owner, "device.command.configure", old)
	not d.allow
	d.reasons == ["firmware_outdated: the device runs 0.9.12; device.command.configure needs firmware 1.0.0 or later"]
}

test_versions_compare_numerically if {
	authz.version_at_least("1.10.0", "1.2.0")
	authz.version_at_least("v2.0", "1.9.9")
	not authz.version_at_least("1.2.0", "1.10.0")
	not authz.version_at_least("garbage", "1.0.0")
}

test_another_tenants_resource_is_denied if {
	d := decide({"type": "user", "id": "ada", "roles": ["admin"]}, "devices.read", json.patch(lock, [{"op": "add", "path": "/attributes/tenant", "value": "other"}]))
	not d.allow
	d.reasons == ["tenant_mismatch: the resource belongs to another tenant"]
}

test_unknown_action_is_denied_even_for_admin if {
	d := decide({"type": "user", "id": "ada", "roles": ["admin"]}, "devices.teleport", lock)
	not d.allow
	has_reason(d, "unknown_action: devices.teleport")
}

test_wrong_resource_type_is_denied if {
	d := decide({"type": "user", "id": "ada", "roles": ["admin"]}, "devices.bulk", lock)
	not d.allow
	d.reasons == ["resource_type_mismatch: devices.bulk applies to resources of type tenant"]
}

test_no_roles_no_access if {
	d := decide({"type": "client", "id": "nobody"}, "devices.read", lock)
	not d.allow
	d.ttl_seconds == 0
}

# --- signing keys: the admin API's /signing-keys (docs/adr/0010) ---------------------------------------

demo_tenant := {"type": "tenant", "id": "demo", "attributes": {"tenant": "demo"}}

key_admin := {"type": "client", "id": "demo-service", "roles": ["admin"], "scopes": ["keys:read", "keys:write"]}

test_admin_may_list_and_rotate_signing_keys if {
	decide(key_admin, "keys.read", demo_tenant).reasons == ["role admin permits keys.read"]
	rotate := decide(key_admin, "keys.rotate", demo_tenant)
	rotate.allow
	rotate.ttl_seconds == 0
	decide({"type": "user", "id": "ada", "roles": ["admin"]}, "keys.rotate", demo_tenant).allow
}

test_only_admins_may_list_or_rotate_signing_keys if {
	every role in ["operator", "viewer", "device-owner"] {
		every action in ["keys.read", "keys.rotate"] {
			d := decide(object.union(key_admin, {"roles": [role]}), action, demo_tenant)
			not d.allow
			has_reason(d, "no_permission:")
		}
	}
	not decide({"type": "device", "id": "dev-1", "attributes": {"deviceType": "controller"}}, "keys.read", demo_tenant).allow
}

test_rotating_signing_keys_needs_keys_write_in_the_token if {
	d := decide(object.union(key_admin, {"scopes": ["keys:read"]}), "keys.rotate", demo_tenant)
	d.reasons == ["scope_missing: the token lacks scope keys:write"]
}

test_signing_keys_are_the_tenants_own if {
	decide(key_admin, "keys.rotate", lock).reasons == ["resource_type_mismatch: keys.rotate applies to resources of type tenant"]
	d := decide(key_admin, "keys.rotate", {"type": "tenant", "id": "other", "attributes": {"tenant": "other"}})
	d.reasons == ["tenant_mismatch: the resource belongs to another tenant"]
}

test_signing_key_actions_are_not_delegable if {
	admin_for_bianca := object.union(adam_for_bianca, {"roles": ["admin"], "scopes": ["keys:write"]})
	grant := json.patch(evening_grant, [{"op": "replace", "path": "/scopes", "value": ["keys:write"]}, {"op": "replace", "path": "/resource", "value": "*"}])
	d := decide_at(admin_for_bianca, "keys.rotate", demo_tenant, {"time": thursday_evening, "grant": grant})
	d.reasons == ["not_delegable: keys.rotate cannot be done with a delegated token"]
}

# --- token.scope --------------------------------------------------------------------------------------

test_unrestricted_scope_is_allowed if {
	d := decide({"type": "client", "id": "demo-service"}, "token.scope", {"type": "scope", "id": "devices:read"})
	d.allow
	d.reasons == ["scope_unrestricted: the policy does not restrict this scope"]
}

test_a_restriction_without_subject_types_applies_to_everyone if {
	scope := {"type": "scope", "id": "lock:unlock"}
	restricted := {"lock:unlock": {"roles": ["device-owner"]}}
	not decide({"type": "client", "id": "demo-app"}, "token.scope", scope).allow with data.scopes as restricted
	decide({"type": "user", "id": "adam", "roles": ["device-owner"]}, "token.scope", scope).allow with data.scopes as restricted
}

test_token_scope_is_not_bound_by_the_tokens_own_scopes if {
	decide({"type": "client", "id": "demo-service", "scopes": ["openid"]}, "token.scope", {"type": "scope", "id": "devices:read"}).allow
}

test_restricted_scope_needs_a_role_for_people if {
	scope := {"type": "scope", "id": "devices:write"}
	not decide({"type": "user", "id": "vic", "roles": ["viewer"]}, "token.scope", scope).allow
	decide({"type": "user", "id": "olga", "roles": ["operator"]}, "token.scope", scope).allow
	decide({"type": "client", "id": "demo-service"}, "token.scope", scope).allow
}

# --- delegation: Adam shares lock-1 with Bianca, 18:00-22:00 Zurich time, Monday to Friday ----------

adam_for_bianca := {
	"type": "user", "id": "adam", "roles": ["device-owner"],
	"act": {"sub": "bianca"}, "gid": "g-1", "scopes": ["lock:unlock"],
}

evening_grant := {
	"id": "g-1", "status": "active", "delegatee": "bianca", "resource": "device:lock-1", "scopes": ["lock:unlock"],
	"notBefore": "2026-11-01T00:00:00Z", "expiresAt": "2026-12-01T00:00:00Z",
	"constraints": {"timeZone": "Europe/Zurich", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "timeOfDay": {"from": "18:00", "to": "22:00"}},
}

test_delegated_unlock_inside_the_window_is_allowed if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening, "grant": evening_grant})
	d.allow
	d.ttl_seconds == 0
	d.obligations == {"audit": {"act": {"sub": "bianca"}}}
}

test_delegated_token_scope_follows_the_grant if {
	inside := {"time": thursday_evening, "grant": evening_grant}
	d := decide_at(adam_for_bianca, "token.scope", {"type": "scope", "id": "lock:unlock"}, inside)
	d.allow
	d.ttl_seconds == 0
	not decide_at(adam_for_bianca, "token.scope", {"type": "scope", "id": "lock:configure"}, inside).allow
	not decide_at(adam_for_bianca, "token.scope", {"type": "scope", "id": "lock:unlock"}, {"time": "2026-11-19T08:00:00Z", "grant": evening_grant}).allow
}

test_delegated_unlock_outside_the_time_of_day_is_denied if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-19T08:00:00Z", "grant": evening_grant})
	not d.allow
	d.reasons == ["grant_outside_time_of_day: the grant allows 18:00-22:00 (Europe/Zurich)"]
}

test_delegated_unlock_on_a_weekend_is_denied if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-21T18:30:00Z", "grant": evening_grant})
	not d.allow
	d.reasons == ["grant_outside_weekdays: the grant allows mon,tue,wed,thu,fri (Europe/Zurich)"]
}

test_delegated_unlock_after_the_grant_expired_is_denied if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-12-03T18:30:00Z", "grant": evening_grant})
	not d.allow
	has_reason(d, "grant_outside_validity:")
}

test_time_window_across_midnight if {
	night := json.patch(evening_grant, [
		{"op": "replace", "path": "/constraints/timeOfDay", "value": {"from": "22:00", "to": "06:00"}},
		{"op": "remove", "path": "/constraints/weekdays"},
	])
	decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-19T23:30:00Z", "grant": night}).allow
	decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-20T04:59:00Z", "grant": night}).allow
	not decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-20T05:00:00Z", "grant": night}).allow
	not decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": "2026-11-19T20:59:00Z", "grant": night}).allow
}

test_delegated_token_without_its_grant_is_denied if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening})
	not d.allow
	d.reasons == ["grant_missing: a delegated subject needs its delegation grant in context.grant"]
}

test_grant_for_another_device_is_denied if {
	d := decide_at(adam_for_bianca, "device.command.unlock", json.patch(lock, [{"op": "replace", "path": "/attributes/serial", "value": "lock-2"}]), {"time": thursday_evening, "grant": evening_grant})
	not d.allow
	d.reasons == ["grant_resource_mismatch: the grant covers device:lock-1"]
}

test_grant_scopes_bound_the_delegated_actions if {
	d := decide_at(object.union(adam_for_bianca, {"scopes": ["lock:configure"]}), "device.command.configure", lock, {"time": thursday_evening, "grant": evening_grant})
	not d.allow
	d.reasons == ["grant_scope_missing: the grant does not include scope lock:configure"]
}

test_revoked_or_foreign_grants_are_denied if {
	revoked := json.patch(evening_grant, [{"op": "replace", "path": "/status", "value": "revoked"}])
	has_reason(decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening, "grant": revoked}), "grant_not_active: the grant is revoked")
	other := json.patch(evening_grant, [{"op": "replace", "path": "/id", "value": "g-2"}])
	has_reason(decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening, "grant": other}), "grant_mismatch:")
	carol := json.patch(evening_grant, [{"op": "replace", "path": "/delegatee", "value": "carol"}])
	has_reason(decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening, "grant": carol}), "grant_delegatee_mismatch:")
}

test_a_delegated_action_needs_a_scope_the_grant_names if {
	d := decide_at(adam_for_bianca, "device.command.unlock", lock, {"time": thursday_evening, "grant": evening_grant}) with data.actions["device.command.unlock"] as {"resourceType": "device", "delegable": true}
	not d.allow
	has_reason(d, "grant_scope_missing:")
}

test_administrative_actions_are_not_delegable if {
	admin_for_bianca := object.union(adam_for_bianca, {"roles": ["admin"], "scopes": ["devices:write"]})
	grant := json.patch(evening_grant, [{"op": "replace", "path": "/scopes", "value": ["devices:write"]}])
	d := decide_at(admin_for_bianca, "devices.decommission", lock, {"time": thursday_evening, "grant": grant})
	not d.allow
	d.reasons == ["not_delegable: devices.decommission cannot be done with a delegated token"]
}

test_delegation_never_exceeds_the_delegators_own_rights if {
	d := decide_at(adam_for_bianca, "device.command.unlock", json.patch(lock, [{"op": "replace", "path": "/attributes/ownerId", "value": "carol"}]), {"time": thursday_evening, "grant": evening_grant})
	not d.allow
	has_reason(d, "out_of_scope: role device-owner")
}

# --- data_errors (checked by the policy service before it activates data) --------------------------

test_the_default_data_has_no_errors if {
	count(authz.data_errors) == 0
}

test_malformed_data_is_reported if {
	errors := authz.data_errors with data.roles as {
		"broken": {"permissions": "all"},
		"vague": {"permissions": [{"actions": ["devices.read"], "scope": "world"}]},
	}
		with data.bindings as {"user": {"olga": {"roles": "operator"}}}
		with data.actions.x as {"cacheTtlSeconds": "soon", "scope": null}
	errors == {
		"action x: scope must be a scope token (a string)",
		"role broken: permissions must be a list",
		"role vague: a permission's scope must be tenant, site, owner or self",
		"bindings.user.olga: roles and sites must be lists",
		"action x: cacheTtlSeconds must be a number",
	}
}
