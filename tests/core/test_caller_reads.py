"""Authorizing a read makes no ORM entity in the session: the account and the organization come back as Core
columns, made detached entities holding the same values as the session's own load (``db.detached``)."""

from sqlalchemy import inspect

from tenantry.core.memberships import callers
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import User
from tenantry.db.detached import column_keys
from tenantry.db.engine import Database
from tests.factories import Tenant


def _values(entity: User | Organization) -> dict[str, object]:
    return {key: getattr(entity, key) for key in column_keys(type(entity))}


async def test_a_read_authorizes_with_detached_entities_holding_what_the_session_loads(
    database: Database, tenant: Tenant
) -> None:
    owner = tenant.owner.id
    async with database.transaction(write=True) as session:
        loaded = await callers.caller_in_org(session, owner, None, tenant.slug, owner)
        assert loaded.user in session
        assert loaded.org in session
        expected_user, expected_org = _values(loaded.user), _values(loaded.org)  # type: ignore[arg-type]
    async with database.transaction(write=False) as session:
        read = await callers.caller_in_org(session, owner, None, tenant.slug, owner)
        assert len(session.identity_map) == 0
    assert read.user is not None
    assert read.org is not None
    assert inspect(read.user).detached
    assert inspect(read.org).detached
    assert _values(read.user) == expected_user
    assert _values(read.org) == expected_org
    assert read.session_ended == loaded.session_ended is False
    assert read.membership == loaded.membership
    assert read.member == loaded.member
    assert read.membership is not None
    assert "users:read" in read.membership.permissions


async def test_a_read_of_an_unknown_organization_finds_the_account_and_no_organization(
    database: Database, tenant: Tenant
) -> None:
    async with database.transaction(write=False) as session:
        read = await callers.caller_in_org(session, tenant.owner.id, None, "no-such-org")
    assert read.user is not None
    assert read.user.id == tenant.owner.id
    assert read.org is None
    assert read.membership is None
