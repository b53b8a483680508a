"""Who is acting: what services need to know of the caller, free of any HTTP or token detail."""

from dataclasses import dataclass, field
from datetime import datetime

from tenantry.core.roles.permissions import PERMISSIONS


@dataclass(frozen=True)
class SignIn:
    """The sign-in session a caller's credential belongs to: work that outlives the request it came with (an
    import) goes on only while that session would still let its next request in (``core.access.actor_now``)."""

    session_id: str | None
    """The token session (refresh family) of an access token, or the browser session of a console page; None for
    a token of no session."""
    issued_at: datetime
    """When the credential was issued: an access token's ``iat`` (whole seconds), a browser session's start."""


@dataclass(frozen=True)
class Actor:
    user_id: str | None = None
    api_key_id: str | None = None
    client_id: str | None = None
    """The application (OAuth client) the OpenID provider issued the caller's token to; None for the user's own
    credential: a token of Tenantry's own (the native token endpoint, a dialect's sign-in), the hosted pages, the
    console. None also for an API key and an impersonation."""
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
    sign_in: SignIn | None = None
    """The sign-in session the caller's credential belongs to (a user's own token, the console's browser session);
    None for an API key, the operator, an impersonation, or an actor no request authorized."""

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
