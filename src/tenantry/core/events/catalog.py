"""The event catalog: which audit actions are also events that applications may read and receive.

Every change is recorded once, as an audit event (``core.audit``); the ones whose action maps to a
catalog type below are also *events*: they appear in the event feeds and go to webhooks. A new audit
action is an event as soon as it is written with a catalog type's name or gains a line in
``_RENAMED``; everything else (links sent, impersonations, session ends) stays in the audit log only.

| audit action                                   | event type                  |
|------------------------------------------------|-----------------------------|
| user.created                                   | user.created                |
| user.updated, member.profile_updated           | user.updated                |
| user.deleted                                   | user.deleted                |
| member.disabled / member.enabled               | user.disabled / user.enabled|
| user.password_changed, _set, _reset            | user.password_changed       |
| user.ownership_proven                          | user.password_changed       |
| user.email_changed                             | user.email_changed          |
| user.email_verified                            | user.email_verified         |
| user.signed_in / user.sign_in_failed           | same                        |
| member.added, member.provisioned, membership.created | membership.created    |
| member.attach_requested, member.consent_required | membership.invited        |
| user.activated, member.consent_accepted        | membership.accepted         |
| member.consent_declined                        | membership.declined         |
| member.removed, membership.removed             | membership.removed          |
| member.invitation_withdrawn                    | membership.removed          |
| member.roles_set, member.scoped_roles_changed  | membership.roles_changed    |
| org.created / org.updated / org.deleted        | organization.*              |
| role.created / role.updated / role.deleted     | same                        |
| api_key.created / api_key.revoked              | same                        |
| partner.granted / partner.revoked              | partner_link.created / partner_link.revoked |
| resource.created / resource.updated / resource.deleted | same                |
| client.created / updated / deleted / secret_rotated    | same                |
| mfa.enrolled / mfa.removed / mfa.reset        | same                        |
| mfa.recovery_code_used / mfa.failed            | same                        |
"""

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "user.created",
        "user.updated",
        "user.deleted",
        "user.disabled",
        "user.enabled",
        "user.password_changed",
        "user.email_changed",
        "user.email_verified",
        "user.signed_in",
        "user.sign_in_failed",
        "membership.created",
        "membership.invited",
        "membership.accepted",
        "membership.declined",
        "membership.removed",
        "membership.roles_changed",
        "organization.created",
        "organization.updated",
        "organization.deleted",
        "role.created",
        "role.updated",
        "role.deleted",
        "api_key.created",
        "api_key.revoked",
        "partner_link.created",
        "partner_link.revoked",
        "resource.created",
        "resource.updated",
        "resource.deleted",
        "client.created",
        "client.updated",
        "client.deleted",
        "client.secret_rotated",
        "mfa.enrolled",
        "mfa.removed",
        "mfa.reset",
        "mfa.recovery_code_used",
        "mfa.failed",
    }
)

_RENAMED: dict[str, str] = {
    "member.profile_updated": "user.updated",
    "member.disabled": "user.disabled",
    "member.enabled": "user.enabled",
    "user.password_set": "user.password_changed",
    "user.password_reset": "user.password_changed",
    "user.ownership_proven": "user.password_changed",
    "member.added": "membership.created",
    "member.provisioned": "membership.created",
    "user.activated": "membership.accepted",
    "member.attach_requested": "membership.invited",
    "member.consent_required": "membership.invited",
    "member.consent_accepted": "membership.accepted",
    "member.consent_declined": "membership.declined",
    "member.removed": "membership.removed",
    "member.invitation_withdrawn": "membership.removed",
    "member.roles_set": "membership.roles_changed",
    "member.scoped_roles_changed": "membership.roles_changed",
    "org.created": "organization.created",
    "org.updated": "organization.updated",
    "org.deleted": "organization.deleted",
    "partner.granted": "partner_link.created",
    "partner.revoked": "partner_link.revoked",
}
assert set(_RENAMED.values()) <= EVENT_TYPES


def event_type_for(action: str) -> str | None:
    """The catalog type an audit action is published as; None for audit-only actions."""
    return _RENAMED.get(action) or (action if action in EVENT_TYPES else None)
