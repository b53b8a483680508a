"""Whose credentials an account holds: the rule against account pre-hijacking.

An organization can create an account for any address, with a password it chose (and even mark the address
verified). ``User.credentials_proven`` says whether the account's credentials were chosen by the proven owner
of its address, through a link mailed to it. Anyone else setting them (an organization or partner creating the
account with a password or a hash, an administrator setting a password or importing a TOTP secret, a change
of address) makes it False. Accepting an invitation into another organization needs it True; otherwise the
mailed join link first has the owner take the account over (``take_over``), and the organizations that held the
account until then must be accepted again.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.flows.context import Flows, send_email
from tenantry.core.flows.magic_links import opened_by_magic_link
from tenantry.core.memberships import service as memberships
from tenantry.core.mfa import passkeys
from tenantry.core.mfa import repository as factors
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service as users
from tenantry.core.users.models import User


async def prove_by_mailbox(session: AsyncSession, user: User) -> None:
    """The owner of the address just chose the password through a link mailed to it (activation, reset). The
    credentials are the owner's when no second factor stays that someone else may have enrolled (a passkey
    signs in alone): with factors, the account keeps what it was; the join link takes it over if need be."""
    if not await factors.confirmed_kinds(session, user.id) and not await passkeys.has_any(session, user.id):
        user.credentials_proven = True


def factor_added(user: User, signed_in_by: list[str] | None) -> None:
    """A sign-in factor (a passkey, an authenticator app) was added in a session whose sign-in proved
    ``signed_in_by``. In a session a magic link opened, whoever the link was handed to (the account's
    organization) may have added it: the credentials are no longer proven the owner's, and accepting another
    organization's invitation goes through the mailed link, which removes every factor (``take_over``)."""
    if opened_by_magic_link(signed_in_by):
        user.credentials_proven = False


async def take_over(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization, user: User, password: str
) -> None:
    """The owner of the address (``actor``), through a mailed link, replaces what someone else may know of the
    account: the new password replaces the old, every second factor (authenticator app, passkeys, recovery codes)
    goes, every session, refresh token and one-time link ends (``store_password``), and the owner is told by mail
    (in the branding of ``org``, the organization whose invitation the link answers). The other organizations the
    account had joined did so without the owner's consent: each waits for it again (``ask_consent_again``), as the
    mail says; their memberships are held before the account is written (the lock order: ``orgs.Hold``)."""
    asked = await memberships.ask_consent_again(session, actor, user, org)
    await users.store_password(session, user, password, flows.passwords)
    await factors.delete_factors(session, user.id)
    await passkeys.remove_all(session, user.id)
    await factors.delete_recovery_codes(session, user.id)  # (challenges went with the sessions: store_password)
    user.password_change_required = False
    user.email_verified = True
    user.credentials_proven = True
    await session.flush()
    names = [joined.name for joined in asked]
    await send_email(session, flows, "account_secured", user, org, flows.page_url("account"), 0, asked_again=names)
