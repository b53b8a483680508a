"""The permission catalog and the built-in roles.

A permission is ``"<domain>:<action>"``. Built-in roles exist once for every organization; their rows
(with fixed ids) give grants something to point at, and their permissions come from here, so a new
release can widen them without a data migration.
"""

from dataclasses import dataclass

PERMISSIONS: dict[str, str] = {
    "orgs:read": "See the organization",
    "orgs:update": "Change the organization's name, description and settings",
    "orgs:delete": "Delete the organization",
    "users:read": "List, search and read the organization's users",
    "users:create": "Create users and add existing accounts to the organization",
    "users:update": "Change users' profiles",
    "users:disable": "Disable and enable users",
    "users:delete": "Remove users from the organization",
    "users:set_password": "Set users' passwords or require them to change it",
    "users:mfa_reset": "Remove users' second factors (authenticator app, recovery codes) when they lost them",
    "users:roles": "Change which roles users hold",
    "users:magic_link": "Create links that sign users in without their password",
    "users:impersonate": "Act as a user of the organization (a short-lived token; never someone with more rights)",
    "roles:read": "List and read roles",
    "roles:write": "Create, change and delete custom roles",
    "api_keys:read": "List API keys",
    "api_keys:write": "Create and revoke API keys",
    "audit:read": "Read the audit log",
    "events:read": "Read the organization's event feed",
    "webhooks:write": "Create, change, delete and read webhook endpoints and their deliveries",
    "scim:provision": "Provision users and groups over SCIM (what an identity provider's API key holds)",
    "partners:read": "See which partner organizations have access to the organization",
    "partners:write": "Grant and revoke partner organizations' access to the organization",
    "partners:act": "Act in the organizations that made this one their partner, with the role they granted",
    "resources:read": "List and read the organization's resources (environments, bots, ...)",
    "resources:write": "Create, change and delete resources",
    "clients:write": "Register, change and delete the organization's own OAuth/OpenID Connect clients",
}


@dataclass(frozen=True)
class BuiltinRole:
    id: str
    name: str
    description: str
    permissions: frozenset[str]


_READ = frozenset({"orgs:read", "users:read", "roles:read"})
_ALL = frozenset(PERMISSIONS)

BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole("000000000000000000000001", "owner", "Everything, including deleting the organization", _ALL),
    BuiltinRole("000000000000000000000002", "admin", "Manages users, roles and keys", _ALL - {"orgs:delete"}),
    BuiltinRole("000000000000000000000003", "member", "Sees the organization and its users", _READ),
    BuiltinRole(
        "000000000000000000000004",
        "supervisor",
        "Manages users within their grants",
        _READ | {"users:create", "users:update", "users:disable", "users:roles", "resources:read"},
    ),
    BuiltinRole("000000000000000000000005", "editor", "Works within their grants", _READ),
    BuiltinRole("000000000000000000000006", "viewer", "Reads within their grants", _READ),
)
BUILTIN_BY_ID = {role.id: role for role in BUILTIN_ROLES}
BUILTIN_BY_NAME = {role.name: role for role in BUILTIN_ROLES}
OWNER = BUILTIN_BY_NAME["owner"]
DEFAULT_ROLE = BUILTIN_BY_NAME["member"]
ALL_PERMISSIONS = _ALL
