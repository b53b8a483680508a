from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import USER_ACTIVE, User, live_account


async def platform_admin_exists(session: AsyncSession) -> bool:
    statement = select(exists().where(User.platform_admin.is_(True), live_account()))
    return bool(await session.scalar(statement))


async def get_live(session: AsyncSession, user_id: str) -> User | None:
    statement = select(User).where(User.id == user_id, live_account())
    return (await session.scalars(statement)).first()


async def get_holder(session: AsyncSession, user_id: str, issued_at: datetime | None) -> User | None:
    """The active account that a token issued at ``issued_at`` still speaks for, or None: not once the account
    is deleted or disabled, nor when a new password or disabling moved ``tokens_valid_after`` past the token
    (``issued_at`` None: a token that outlives a new password)."""
    user = await get_live(session, user_id)
    if user is None or user.status != USER_ACTIVE:
        return None
    if user.tokens_valid_after is not None and issued_at is not None and issued_at < user.tokens_valid_after:
        return None
    return user


async def get_many(session: AsyncSession, user_ids: Sequence[str]) -> list[User]:
    """The live accounts among ``user_ids``, in id order."""
    statement = select(User).where(User.id.in_(user_ids), live_account()).order_by(User.id)
    return list(await session.scalars(statement))


_BY_EMAIL = select(User).where(User.email_key == bindparam("key"), live_account())


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The live account whose email is the same identity as ``email`` (any spelling: see ``emailkey``)."""
    return (await session.scalars(_BY_EMAIL, {"key": email_key(email)})).first()
