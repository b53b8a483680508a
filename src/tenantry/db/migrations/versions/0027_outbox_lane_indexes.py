"""Each lane of the outbox worker reads its own messages from an index: a webhook message names its endpoint in a
column (``outbox_messages.webhook_endpoint_id``, filled for the pending ones from their payload), and the index
(status, next_attempt_at) gives way to (status, webhook_endpoint_id, next_attempt_at) and (status, kind,
next_attempt_at).

The lanes' conditions (``kind != 'webhook'``; the payload's endpoint NOT IN the busy ones) were not in the index:
with 100,000 webhooks due for one endpoint whose receiver is slow, the idle mail lane's check read all of them
(19 ms on SQLite, 37 ms on PostgreSQL, was 0.5 and 1.1 ms), and each fill of the webhook lanes past the busy
endpoint too (87 and 43 ms), every second, in `tenantry serve`.

Webhook messages written by the previous release after this ran name no endpoint: they go out in the mail lane,
one after another, until the release changes. On PostgreSQL the indexes are built and dropped CONCURRENTLY,
outside the revision's transaction (see 0024): a plain build holds a SHARE lock on ``outbox_messages``, and every
change that sends an email would wait for it. A run that failed midway can run again.

Revision ID: 0027
Revises: 0026 (the head after 0003, which created ``outbox_messages``; following it adds no new head)
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = {
    "ix_outbox_messages_endpoint_due": ["status", "webhook_endpoint_id", "next_attempt_at"],
    "ix_outbox_messages_kind_due": ["status", "kind", "next_attempt_at"],
}
"""The indexes of the lanes (``OutboxMessage``), in place of the one that held none of their conditions."""
_OLD = {"ix_outbox_messages_status_next_attempt_at": ["status", "next_attempt_at"]}
_TABLE = "outbox_messages"


def _swap_indexes(build: dict[str, list[str]], drop: dict[str, list[str]]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in drop:
            op.drop_index(name, table_name=_TABLE)
        for name, columns in build.items():
            op.create_index(name, _TABLE, columns)
        return
    with op.get_context().autocommit_block():
        for name, columns in build.items():  # a build that failed midway leaves an INVALID index: start again
            op.drop_index(name, table_name=_TABLE, if_exists=True, postgresql_concurrently=True)
            op.create_index(name, _TABLE, columns, postgresql_concurrently=True)
        for name in drop:
            op.drop_index(name, table_name=_TABLE, if_exists=True, postgresql_concurrently=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # (a run that failed midway committed it)
        op.execute(sa.text(f"ALTER TABLE {_TABLE} ADD COLUMN IF NOT EXISTS webhook_endpoint_id VARCHAR(24)"))
    else:
        op.add_column(_TABLE, sa.Column("webhook_endpoint_id", sa.String(24), nullable=True))
    messages = sa.table(
        _TABLE, sa.column("kind"), sa.column("status"), sa.column("payload", sa.JSON), sa.column("webhook_endpoint_id")
    )
    endpoint = messages.c.payload["endpoint_id"].as_string()
    op.execute(
        sa.update(messages)
        .where(messages.c.kind == "webhook", messages.c.status == "pending")
        .values(webhook_endpoint_id=endpoint)
    )
    _swap_indexes(_NEW, _OLD)


def downgrade() -> None:
    _swap_indexes(_OLD, _NEW)
    with op.batch_alter_table(_TABLE) as table:
        table.drop_column("webhook_endpoint_id")
