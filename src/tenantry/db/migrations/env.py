"""Alembic environment: runs on the connection `tenantry.db.migrate` hands it (SQLite or PostgreSQL)."""

from alembic import context

from tenantry.core.models import Base
from tenantry.db.migrate import include_object

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # tenantry.db.engine emits BEGIN itself on SQLite, which makes its DDL transactional as well.
    transactional_ddl=True,
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
