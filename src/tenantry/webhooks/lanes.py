"""The worker's webhook lanes: deliveries to different endpoints at once, one at a time to each.

A receiver may take up to ``TENANTRY_WEBHOOK_TIMEOUT_SECONDS`` to answer, and one that answers 2xx just before it is
never disabled. Delivered one after another, one organization's slow endpoint held up every other organization's
webhooks, and the emails behind them. Here each endpoint is a lane: the messages claimed for it are delivered in
turn, while up to ``TENANTRY_WEBHOOK_CONCURRENCY`` lanes run at once. A lane is claimed only for an endpoint whose
lane does not run, so this worker never sends two deliveries at once to one endpoint; the messages are leased like
any other (``core.outbox``), so no two workers hold the same one.

The lanes are shared between organizations. One may have any number of endpoints: handed out oldest due first,
one organization's endpoints to a slow receiver (or its backlog) took every lane, and another organization's
webhooks waited for them. So an organization runs at most ``TENANTRY_WEBHOOK_CONCURRENCY_PER_ORG`` lanes at once
(the platform's endpoints count as one organization), and free lanes go to the organizations in turn: the one
with the fewest lanes running first, the oldest due first among equals.
"""

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import OutboxMessage
from tenantry.core.outbox.service import DueEndpoint
from tenantry.core.webhooks.service import deliveries_to
from tenantry.db.engine import Database

DeliverInTurn = Callable[[list[OutboxMessage]], Coroutine[Any, Any, int]]
"""Delivers messages leased together one after another (giving back those it does not start); how many it tried."""
TURN = 5
"""Messages a lane claims for its endpoint: few, so that lanes end often and go round the organizations waiting;
more than one, so that an endpoint's backlog costs a claim per few deliveries, not one each."""


def in_turn(due: list[DueEndpoint], free: int, running: Counter[str | None], per_org: int) -> list[DueEndpoint]:
    """Up to ``free`` of the endpoints ``due`` (oldest due first), each to the organization with the fewest lanes
    (``running`` and those taken here) below ``per_org``: a backlog of one organization's does not sit in front
    of another's."""
    lanes, waiting = Counter(running), list(due)
    taken: list[DueEndpoint] = []
    while len(taken) < free:
        open_to = [endpoint for endpoint in waiting if lanes[endpoint.org_id] < per_org]
        if not open_to:
            break
        endpoint = min(open_to, key=lambda endpoint: lanes[endpoint.org_id])  # (the first of the least served)
        taken.append(endpoint)
        waiting.remove(endpoint)
        lanes[endpoint.org_id] += 1
    return taken


class WebhookLanes:
    def __init__(
        self, database: Database, deliver_in_turn: DeliverInTurn, *, concurrency: int, per_org: int, lease: float
    ) -> None:
        self._database = database
        self._deliver_in_turn = deliver_in_turn
        self._concurrency = concurrency
        self._per_org = per_org
        self._lease = lease
        self._running: dict[str, asyncio.Task[int]] = {}
        self._org_of: dict[str, str | None] = {}
        """The organization of each running lane's endpoint."""

    @property
    def idle(self) -> bool:
        return not self._running

    async def fill(self) -> None:
        """Claim lanes for the endpoints due without a running lane, as many as lanes are free, the organizations
        in turn (``in_turn``), and start them. A read first: with nothing due, no write (SQLite's write lock)."""
        free = self._concurrency - len(self._running)
        if free <= 0:
            return
        async with self._database.transaction(write=False) as session:
            due = await outbox.due_endpoints(session, self._running)
        taken = in_turn(due, free, Counter(self._org_of.values()), self._per_org)
        if not taken:
            return
        async with self._database.transaction() as session:
            claims = [
                await outbox.claim_due(session, TURN, self._lease, deliveries_to(endpoint.endpoint_id))
                for endpoint in taken
            ]
        for endpoint, messages in zip(taken, claims, strict=True):
            if messages:  # (none: another worker claimed them first)
                self._running[endpoint.endpoint_id] = asyncio.create_task(self._deliver_in_turn(messages))
                self._org_of[endpoint.endpoint_id] = endpoint.org_id

    async def wait(self, seconds: float) -> int:
        """Wait up to ``seconds`` for a lane to end; how many messages the lanes that ended attempted. A lane that
        failed (the database away) is raised once every lane that ended is put away."""
        done, _ = await asyncio.wait(self._running.values(), timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        ended = {endpoint_id: task for endpoint_id, task in self._running.items() if task in done}
        for endpoint_id in ended:
            del self._running[endpoint_id], self._org_of[endpoint_id]
        errors = [error for task in ended.values() if (error := task.exception()) is not None]
        if errors:
            raise errors[0]
        return sum(task.result() for task in ended.values())

    async def close(self) -> None:
        """Cancel the running lanes and wait for them: each gives back the messages it did not start, and the one
        in hand goes out again once its lease runs out (its answer was not recorded)."""
        running, self._running, self._org_of = list(self._running.values()), {}, {}
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
