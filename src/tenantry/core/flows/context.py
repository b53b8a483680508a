"""What the flows need, built once per application: settings, templates, password hashing, and the count of
links mailed to each account."""

from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import i18n
from tenantry.core.actor import Actor
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.credentials.policy import policy_for
from tenantry.core.memberships import repository as memberships
from tenantry.core.orgs import branding
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.outbox import service as outbox
from tenantry.core.users.models import User
from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import ngettext
from tenantry.mail.compose import compose
from tenantry.settings import Settings
from tenantry.templating import Templates


class DeadToken(InvalidInput):
    """The link or ticket is unknown, used, expired or outdated; it grants nothing."""

    def __init__(self, field: str = "token") -> None:
        super().__init__([FieldError(field, "is invalid, already used or expired")])


class MailedLinkQuota(Protocol):
    """How many links of one kind an account may be mailed (``auth.throttle``: counters shared by every
    instance when Redis is configured)."""

    async def admit_mailed_link(self, account_id: str, purpose: str) -> None:
        """Count one link of ``purpose`` mailed to the account; ``RateLimited`` when it had its share."""


@dataclass(frozen=True)
class Flows:
    settings: Settings
    templates: Templates
    passwords: Passwords
    mailed_links: MailedLinkQuota

    def page_url(self, page: str, **query: str) -> str:
        """The absolute URL of a hosted page (``/ui/<page>``)."""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.settings.base_url}/ui/{page}{suffix}"


def acting_as(actor: Actor, user: User) -> Actor:
    """The actor for a change the user makes themselves through a link (audit events name them)."""
    return replace(actor, user_id=user.id, api_key_id=None)


def duration_text(seconds: int) -> str:
    """``3 days``, ``1 hour``, ``15 minutes``: in the current language."""
    if seconds >= 86_400 and seconds % 86_400 == 0:
        count = seconds // 86_400
        text = ngettext("%(num)s day", "%(num)s days", count)
    elif seconds >= 3_600 and seconds % 3_600 == 0:
        count = seconds // 3_600
        text = ngettext("%(num)s hour", "%(num)s hours", count)
    elif seconds >= 60 and seconds % 60 == 0:
        count = seconds // 60
        text = ngettext("%(num)s minute", "%(num)s minutes", count)
    else:
        count = seconds
        text = ngettext("%(num)s second", "%(num)s seconds", count)
    return text % {"num": i18n.format_number(count)}


async def email_look(
    session: AsyncSession, flows: "Flows", user_locale: str | None, org: Organization | None
) -> tuple[str, dict[str, Any]]:
    """The language of an email to a user (their ``locale``, else the org's default, else English) and what its
    templates show of the organization: its name as branded, and its branding."""
    if org is None:
        return i18n.negotiate(user_locale=user_locale), {"org_name": None, "brand": None, "from_name": None}
    look = await branding.look_of(session, org)
    language = i18n.negotiate(user_locale=user_locale, org_default=look.default_language)
    shown = {"org_name": look.name, "brand": look.for_email(flows.settings.base_url), "from_name": look.from_name}
    return language, shown


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
        raise InvalidInput([FieldError(field, "must differ from the current password", code="same_as_current")])


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
    """Compose ``email/<template>.*`` for ``user``, in their language and the org's branding, and write it to the
    outbox."""
    language, shown = await email_look(session, flows, user.locale, org)
    with i18n.language(language):
        expires_in = duration_text(ttl_seconds)
    context = {
        "user": {"email": user.email, "first_name": user.first_name, "last_name": user.last_name},
        **shown,
        "link": link,
        "expires_in": expires_in,
        **extra,
    }
    email = compose(flows.templates, template, context, lang=language)
    outbox.enqueue_email(
        session,
        from_name=shown["from_name"],
        to=user.email,
        subject=email.subject,
        text=email.text,
        html=email.html,
        links=[link],
        org_id=org.id if org is not None else None,
    )
