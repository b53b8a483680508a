"""Reading sessions (safe-method requests) refuse to write; on PostgreSQL they run without a transaction."""

import pytest
from sqlalchemy import func, select

from tenantry.core.orgs.models import Organization
from tenantry.db.engine import Database, ReadOnlySession


async def test_a_reading_session_refuses_to_write_and_nothing_is_stored(database: Database) -> None:
    async with database.session(write=False) as session:
        session.add(Organization(slug="never-stored", name="Never stored"))
        with pytest.raises(ReadOnlySession):
            await session.flush()
        await session.rollback()
    async with database.transaction(write=False) as session:
        counted = select(func.count()).select_from(Organization).where(Organization.slug == "never-stored")
        stored = await session.scalar(counted)
    assert stored == 0


async def test_a_writing_session_writes(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Organization(slug="stored", name="Stored"))
    async with database.session(write=False) as session:
        found = await session.scalar(select(Organization).where(Organization.slug == "stored"))
        assert found is not None
        found.name = "Renamed in a reading session"
        with pytest.raises(ReadOnlySession):
            await session.flush()
        await session.rollback()
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(Organization.name).where(Organization.slug == "stored")) == "Stored"


async def test_documents_read_back_as_they_were_stored_each_its_own_object(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Organization(slug="empty-settings", name="Empty"))
        session.add(Organization(slug="other-empty", name="Other"))
        session.add(Organization(slug="some-settings", name="Some", settings={"theme": {"dark": True}, "n": [1, 2.5]}))
    async with database.session(write=False) as session:
        read = select(Organization.slug, Organization.settings).where(Organization.slug.like("%-settings"))
        settings = dict((await session.execute(read)).all())
        others = await session.scalar(select(Organization.settings).where(Organization.slug == "other-empty"))
    assert settings == {"empty-settings": {}, "some-settings": {"theme": {"dark": True}, "n": [1, 2.5]}}
    assert others == {}
    assert others is not settings["empty-settings"]
