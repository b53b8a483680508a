"""Who is acting: what services need to know of the caller, free of any HTTP or token detail."""

from dataclasses import dataclass, field

from tenantry.core.roles.permissions import PERMISSIONS


@dataclass(frozen=True)
class Actor:
    user_id: str | None = None
    api_key_id: str | None = None
    impersonator_id: str | None = None
    partner_org_id: str | None = None
    platform_admin: bool = False
    permissions: frozenset[str] = field(default_factory=frozenset)
    request_id: str | None = None
    client_ip: str | None = None

    def holds(self, permissions: frozenset[str] | set[str]) -> bool:
        """True when the actor holds every one of Tenantry's own permissions given (platform admins hold all).

        Application permissions (``POST /api/v1/permissions``) are the application's business: holding
        them ranks nobody above anybody in Tenantry, so they are left out of this comparison."""
        return self.platform_admin or (permissions & PERMISSIONS.keys()) <= self.permissions


SYSTEM = Actor(platform_admin=True)
