"""Which endpoints the free webhook lanes go to: the organizations in turn, each up to its share."""

from collections import Counter
from datetime import timedelta

from tenantry.core.outbox.service import DueEndpoint
from tenantry.db.base import utcnow
from tenantry.webhooks.lanes import in_turn


def test_a_free_lane_goes_to_the_organization_with_the_fewest_in_hand() -> None:
    """Not to the oldest due: acme's backlog is older, but acme has a lane running and globex none."""
    now = utcnow()
    due = [DueEndpoint(f"acme-{n}", "acme", now - timedelta(minutes=10 - n)) for n in range(3)]
    due.append(DueEndpoint("globex", "globex", now))
    taken = in_turn(due, 1, Counter({"acme": 1}), per_org=4)
    assert [endpoint.endpoint_id for endpoint in taken] == ["globex"]
    taken = in_turn(due, 3, Counter({"acme": 1}), per_org=2)  # acme reaches its share at 2
    assert [endpoint.endpoint_id for endpoint in taken] == ["globex", "acme-0"]
