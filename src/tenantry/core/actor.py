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
    bound_org_id: str | None = None
    """The one organization the caller's credential acts in, when it is bound to one: an impersonation token,
    or a token the OpenID provider issued to an application for that organization."""
    second_factor: bool = False
    """The caller's sign-in proved a second factor (``mfa`` in its ``amr``): it may change the account's."""

    def is_user(self, user_id: str) -> bool:
        """Whether the caller is the user ``user_id`` with a credential of their own: not an impersonation, nor
        an application's token for one organization. Only such a caller changes what guards the account in every
        organization (its password, its email address) as the user themselves."""
        return self.user_id == user_id and self.impersonator_id is None and self.bound_org_id is None

    def holds(self, permissions: frozenset[str] | set[str]) -> bool:
        """True when the actor holds every one of Tenantry's own permissions given (platform admins hold all).

        Application permissions (``POST /api/v1/permissions``) are the application's business: holding
        them ranks nobody above anybody in Tenantry, so they are left out of this comparison."""
        return self.platform_admin or (permissions & PERMISSIONS.keys()) <= self.permissions


SYSTEM = Actor(platform_admin=True)
