"""Webhook retries: exponential backoff with jitter from the configured base, for at most a day."""

from datetime import timedelta

from tenantry.core.outbox.models import OutboxMessage
from tenantry.db.base import utcnow
from tenantry.webhooks.deliverer import MAX_DELAY, retry_at


def _failed(attempts: int, age: timedelta) -> OutboxMessage:
    return OutboxMessage(kind="webhook", attempts=attempts, created_at=utcnow() - age)


def test_each_delay_is_half_to_all_of_its_doubling_from_the_base() -> None:
    now = utcnow()
    for attempts in range(1, 8):
        ceiling = min(30.0 * 2 ** (attempts - 1), MAX_DELAY.total_seconds())
        for _ in range(20):
            at = retry_at(_failed(attempts, timedelta(0)), 30.0, now)
            assert at is not None
            assert ceiling / 2 <= (at - now).total_seconds() <= ceiling


def test_retries_stop_a_day_after_the_event() -> None:
    now = utcnow()
    assert retry_at(_failed(3, timedelta(hours=23, minutes=59)), 30.0, now) is None
    assert retry_at(_failed(3, timedelta(hours=1)), 30.0, now) is not None
