"""Organizations lose ``login_redirect_url`` and its bare authorization code.

The redirect handed a one-time code to a URL an organization's admin chose, on a plain GET, with no
client and no PKCE. Applications sign users in through the OpenID provider's registered clients instead.
Only data changes: the key leaves ``organizations.settings``. Codes already handed out (they live 60
seconds) can no longer be traded: no grant takes them. A downgrade cannot bring back the URLs.

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "login_redirect_url"
_ORGS = sa.table(
    "organizations",
    sa.column("id", sa.String(24)),
    sa.column("settings", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def upgrade() -> None:
    connection = op.get_bind()
    for org_id, settings in connection.execute(sa.select(_ORGS.c.id, _ORGS.c.settings)):
        if isinstance(settings, dict) and _KEY in settings:
            kept = {key: value for key, value in settings.items() if key != _KEY}
            connection.execute(sa.update(_ORGS).where(_ORGS.c.id == org_id).values(settings=kept))


def downgrade() -> None:
    """Nothing to restore: the URLs are gone on purpose."""
