"""A logged error carries its traceback, but never what the failing frames held (passwords, tokens), and
drawing it costs no more than the traceback itself, in both log formats. Nor do the libraries underneath log
what they send: a webhook's URL with its query, a statement's parameters, at any level."""

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tenantry import logs
from tenantry.runtime import Runtime
from tenantry.settings import Settings
from tenantry.webhooks import sender
from tests.webhook_receiver import webhook_receiver

SECRET = "correct-horse-battery-staple-7f3a"


def _captured(settings: Settings) -> Iterator[io.StringIO]:
    """What the service logs once configured with ``settings``, written to a string."""
    logs.configure(settings)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream


def _fail_holding_a_secret() -> None:
    password = SECRET  # noqa: F841 — a local of the failing frame, as a request handler's would be
    payload = {f"field{i}": "x" * 200 for i in range(5_000)}  # noqa: F841 — large locals rendered slowly
    raise ValueError("the statement failed")


@pytest.fixture(params=["console", "json"])
def log_stream(request: pytest.FixtureRequest, settings: Settings) -> Iterator[io.StringIO]:
    yield from _captured(settings.model_copy(update={"log_format": request.param}))
    logs.configure(settings)


@pytest.fixture(params=["INFO", "DEBUG"])
def log_at_level(request: pytest.FixtureRequest, settings: Settings) -> Iterator[io.StringIO]:
    """The log at the default ``TENANTRY_LOG_LEVEL`` and at the most talkative one."""
    yield from _captured(settings.model_copy(update={"log_level": request.param}))
    logs.configure(settings)


def test_a_logged_traceback_names_the_frames_but_not_their_locals(log_stream: io.StringIO) -> None:
    try:
        _fail_holding_a_secret()
    except ValueError:
        logging.getLogger("tenantry.test").exception("unhandled error")
    written = log_stream.getvalue()
    assert "unhandled error" in written
    assert "_fail_holding_a_secret" in written
    assert "the statement failed" in written
    assert SECRET not in written
    assert "field4999" not in written


async def test_a_webhook_delivery_logs_no_url(log_at_level: io.StringIO) -> None:
    """A receiver's URL may carry its credential (``?token=…``, a Slack-style secret path)."""
    with webhook_receiver() as receiver:
        outcome = await sender.post(f"{receiver.url}?token={SECRET}", b"{}", {}, allow_private=True, seconds=5)
    assert outcome.response_status == 200, outcome
    assert SECRET not in log_at_level.getvalue()


async def test_a_statements_parameters_are_not_logged(log_at_level: io.StringIO, runtime: Runtime) -> None:
    """Parameters are password hashes, and the outbox's pending emails with their one-time links."""
    async with runtime.database.transaction(write=False) as session:
        assert (await session.execute(text("SELECT :secret"), {"secret": SECRET})).scalar_one() == SECRET
    assert SECRET not in log_at_level.getvalue()
