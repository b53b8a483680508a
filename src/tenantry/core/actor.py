"""Who is acting: what services need to know of the caller, free of any HTTP or token detail."""

from dataclasses import dataclass, field


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
        """True when the actor holds every permission given (platform admins hold all)."""
        return self.platform_admin or permissions <= self.permissions


SYSTEM = Actor(platform_admin=True)
