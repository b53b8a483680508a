"""What the flows need, built once per application: settings, templates, password hashing."""

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.credentials.policy import policy_for
from tenantry.core.memberships import repository as memberships
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.outbox import service as outbox
from tenantry.core.users.models import User
from tenantry.errors import FieldError, InvalidInput
from tenantry.mail.compose import compose
from tenantry.settings import Settings
from tenantry.templating import Templates


class DeadToken(InvalidInput):
    """The link or ticket is unknown, used, expired or outdated; it grants nothing."""

    def __init__(self, field: str = "token") -> None:
        super().__init__([FieldError(field, "is invalid, already used or expired")])


@dataclass(frozen=True)
class Flows:
    settings: Settings
    templates: Templates
    passwords: Passwords

    def page_url(self, page: str, **query: str) -> str:
        """The absolute URL of a hosted page (``/ui/<page>``)."""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.settings.base_url}/ui/{page}{suffix}"


def acting_as(actor: Actor, user: User) -> Actor:
    """The actor for a change the user makes themselves through a link (audit events name them)."""
    return replace(actor, user_id=user.id, api_key_id=None)


def duration_text(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


async def organizations_of(session: AsyncSession, user: User) -> list[Organization]:
    """The organizations the account has joined (not those whose invitation it has not accepted)."""
    joined = [m for m in await memberships.for_user(session, user.id) if not m.consent_pending]
    found = [await orgs.get_by_ref(session, m.org_id) for m in joined]
    return [org for org in found if org is not None]


async def check_new_password(session: AsyncSession, user: User, password: str, *, field: str = "password") -> None:
    """The password must satisfy the policy of every organization the account belongs to."""
    context = [user.email, user.first_name, user.last_name]
    targets: list[Organization | None] = [*await organizations_of(session, user)] or [None]
    for org in targets:
        policy_for(org).check(password, field=field, context=[*context, *([org.name] if org else [])])


async def ensure_differs_from_current(flows: Flows, user: User, password: str, *, field: str = "password") -> None:
    """A password replacing the current one (a reset, a change that was required) must not be the same."""
    if user.password_hash is not None and await flows.passwords.verify(user.password_hash, password):
        raise InvalidInput([FieldError(field, "must differ from the current password")])


async def send_email(
    session: AsyncSession,
    flows: Flows,
    template: str,
    user: User,
    org: Organization | None,
    link: str,
    ttl_seconds: int,
    **extra: Any,
) -> None:
    """Compose ``email/<template>.*`` for ``user`` and write it to the outbox."""
    context = {
        "user": {"email": user.email, "first_name": user.first_name, "last_name": user.last_name},
        "org_name": org.name if org is not None else None,
        "link": link,
        "expires_in": duration_text(ttl_seconds),
        **extra,
    }
    email = compose(flows.templates, template, context)
    outbox.enqueue_email(
        session,
        to=user.email,
        subject=email.subject,
        text=email.text,
        html=email.html,
        links=[link],
        org_id=org.id if org is not None else None,
    )
