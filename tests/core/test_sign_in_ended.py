"""When work that outlives its request (an import) finds its sign-in ended: as that credential's next request
would, to the second a token of no session counts in, and never for a session begun after the account's sessions
were ended."""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import SignIn
from tenantry.core.sessions import service as browser_sessions
from tenantry.core.sessions.service import sign_in_now
from tenantry.core.tokens.service import revoke_sessions
from tenantry.core.users import repository as accounts
from tenantry.core.users.models import User
from tenantry.db.engine import Database
from tests.factories import Tenant


async def _owner(session: AsyncSession, tenant: Tenant) -> User:
    user = await accounts.get_live(session, tenant.owner.id)
    assert user is not None
    return user


async def test_a_token_of_no_session_ends_with_a_revocation_within_its_second(
    database: Database, tenant: Tenant
) -> None:
    async with database.transaction(write=True) as session:
        user = await _owner(session, tenant)
        await revoke_sessions(session, user)
        assert user.tokens_valid_after is not None
        second = datetime.fromtimestamp(math.floor(user.tokens_valid_after.timestamp()), UTC)
        assert (await sign_in_now(session, user, SignIn(None, second))).ended
        assert not (await sign_in_now(session, user, SignIn(None, second + timedelta(seconds=1)))).ended


async def test_a_browser_session_ends_when_signed_out_or_begun_before_every_session_ended(
    database: Database, tenant: Tenant
) -> None:
    async with database.transaction(write=True) as session:
        user = await _owner(session, tenant)
        before = await browser_sessions.resume(session, await browser_sessions.start(session, user, 3600))
        assert before is not None
        await revoke_sessions(session, user)
        after = await browser_sessions.start(session, user, 3600)
        after_found = await browser_sessions.resume(session, after)
        assert after_found is not None
        started = after_found.session
        assert (await sign_in_now(session, user, SignIn(before.session.id, before.session.created_at))).ended
        assert not (await sign_in_now(session, user, SignIn(started.id, started.created_at))).ended
        await browser_sessions.end(session, after)
        assert (await sign_in_now(session, user, SignIn(started.id, started.created_at))).ended
