"""A logged error carries its traceback, but never what the failing frames held (passwords, tokens), and
drawing it costs no more than the traceback itself, in both log formats."""

import io
import logging
from collections.abc import Iterator

import pytest

from tenantry import logs
from tenantry.settings import Settings

SECRET = "correct-horse-battery-staple-7f3a"


def _fail_holding_a_secret() -> None:
    password = SECRET  # noqa: F841 — a local of the failing frame, as a request handler's would be
    payload = {f"field{i}": "x" * 200 for i in range(5_000)}  # noqa: F841 — large locals rendered slowly
    raise ValueError("the statement failed")


@pytest.fixture(params=["console", "json"])
def log_stream(request: pytest.FixtureRequest, settings: Settings) -> Iterator[io.StringIO]:
    logs.configure(settings.model_copy(update={"log_format": request.param}))
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
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
