"""Schema migrations, Alembic only, run programmatically on the application's own engine.

Alembic is imported by the functions that use it: it brings Mako and Pygments' lexers, 7 MiB resident, and
the `tenantry` command imports this module for every subcommand, ``serve`` and ``worker`` too, which check
the schema apart and then never migrate (``tenantry.cli.prepare_apart``).
"""

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from tenantry.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def include_object(_: object, name: str | None, type_: str, reflected: bool, __: object) -> bool:
    """Leave backend-specific search structures (migration 0007) out of model comparisons.

    The SQLite FTS5 table ``users_search`` (and its shadow tables) and the PostgreSQL trigram indexes
    ``ix_users_*_trgm`` are written by hand in that migration; the models do not describe them.
    """
    if name is None or not reflected:
        return True
    if type_ == "table":
        return not name.startswith("users_search")
    return not (type_ == "index" and name.endswith("_trgm"))


def alembic_config() -> "Config":
    from alembic.config import Config  # deferred: see the module's docstring

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory  # deferred: see the module's docstring

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision of every branch.

    The connection comes without a transaction: Alembic begins its own (``env.py``), which a revision may commit
    to run statements outside any (``autocommit_block``: 0024 and 0027 on PostgreSQL, so the revisions before it in
    the same run are committed then); in a transaction of ours it could not, and Alembic refuses.
    """
    from alembic import command  # deferred: see the module's docstring

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")

    async with database.engine.connect() as connection:
        await connection.run_sync(run)


async def current_revisions(database: Database) -> set[str]:
    from alembic.runtime.migration import MigrationContext  # deferred: see the module's docstring

    def read(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        return await connection.run_sync(read)


async def is_current(database: Database) -> bool:
    return await current_revisions(database) == head_revisions()
