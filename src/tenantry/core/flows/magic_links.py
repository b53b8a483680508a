"""Magic links: an administrator gets a URL (no email) that signs the user in once."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit import signins
from tenantry.core.audit.service import record_for_user
from tenantry.core.audit.signins import record_sign_in
from tenantry.core.clients.destinations import AppDestination
from tenantry.core.credentials import lockout
from tenantry.core.flows.context import DeadToken, Flows
from tenantry.core.memberships import service as membership_rules
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE
from tenantry.core.memberships.service import Member
from tenantry.core.mfa import service as mfa
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import MAGIC_LINK
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import USER_ACTIVE
from tenantry.db.base import utcnow
from tenantry.errors import Conflict

SIGN_IN_METHOD = signins.MAGIC_LINK
"""How a magic link's sign-in is named in the audit log and the sign-in metric."""
SIGN_IN_AMR = "email"
"""``amr`` of a sign-in by a magic link (not in RFC 8176; Okta's tokens say so of a mailed link). An
administrator of the account's organization was handed the link: the sessions it opens may be theirs, not the
user's (``memberships.joining``)."""


def opened_by_magic_link(amr: list[str] | None) -> bool:
    """Whether a session whose sign-in proved ``amr`` was opened by a magic link (``SIGN_IN_AMR``)."""
    return SIGN_IN_AMR in (amr or [])


@dataclass(frozen=True)
class MagicLink:
    url: str
    expires_at: datetime


async def create_magic_link(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    org: Organization,
    member: Member,
    destination: AppDestination | None = None,
) -> MagicLink:
    """A sign-in link for ``member``. It signs in to the whole account, so, like setting a password, it is
    for accounts that belong to this organization only (platform admins excepted). With ``destination``
    (``core.clients.destinations``) using it continues into that client's authorization flow."""
    membership_rules.ensure_may_manage(actor, member)
    await membership_rules.ensure_account_exclusive(session, actor, org, member)
    user = member.user
    if user.status != USER_ACTIVE or member.membership.status != MEMBERSHIP_ACTIVE:
        reason = "has not set a password yet" if user.password_hash is None else "is disabled"
        raise Conflict(f"the user {reason}; a magic link cannot sign them in")
    details = destination.details() if destination is not None else None
    ttl = flows.settings.magic_link_ttl_seconds
    issued = await onetime.issue(session, MAGIC_LINK, user, ttl, org_id=org.id, details=details)
    record_for_user(session, actor, "user.magic_link_created", user.id, org_id=org.id)
    return MagicLink(flows.page_url("magic", token=issued.token), issued.expires_at)


async def find_magic_link(session: AsyncSession, token: str) -> Redeemable | None:
    return await onetime.find(session, MAGIC_LINK, token)


async def redeem_magic_link(session: AsyncSession, flows: Flows, actor: Actor, token: str) -> Redeemable:
    """Spend the link: the caller signs in as its user, once. The sign-in is recorded in the link's organization
    now, or, when a second factor must follow, once that is answered (``core.mfa.challenges``). Under the
    account's lock, taken before the link's row, as a password sign-in holds it: a factor confirmed meanwhile
    ends this session, or is read here."""
    seen = await onetime.find(session, MAGIC_LINK, token)
    if seen is not None:
        await lockout.one_at_a_time(session, lockout.account_key(seen.user.email))
    found = await onetime.redeem(session, MAGIC_LINK, token)
    if found is None:
        raise DeadToken()
    found.user.last_login_at = utcnow()
    await session.flush()
    if (await mfa.requirement(session, flows.settings, found.user)).kind == "none":
        await record_sign_in(
            session, found.user, method=SIGN_IN_METHOD, org_id=found.row.org_id, client_ip=actor.client_ip
        )
    return found
