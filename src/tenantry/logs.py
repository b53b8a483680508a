"""Logging through structlog, for our own messages and the standard library's alike.

Nothing logged here carries a password, a token or a key: the access log records the path without its
query string, no request or response body is ever logged, and a traceback is the plain one: frames and
lines, never the frames' local variables (which hold passwords and tokens, and which a rich renderer can
spend minutes drawing while the request waits). The libraries that log what they send are held at WARNING
whatever ``TENANTRY_LOG_LEVEL`` says (``_QUIET``).
"""

import logging
import sys

import structlog

from tenantry.requestctx import request_id
from tenantry.settings import Settings


def _add_request_id(_: object, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
    current = request_id.get()
    if current is not None:
        event.setdefault("request_id", current)
    return event


_QUIET = (
    "httpx",  # INFO: "HTTP Request: POST <url>" for each webhook, with the query a receiver's credential is in
    "httpcore",  # DEBUG: each step of those requests
    "urllib3",  # DEBUG: each request line to the trace collector, query included
    "aiosqlite",  # DEBUG: every statement with its parameters (password hashes, mailed links and their tokens)
    "sqlalchemy.engine",  # INFO: the same; SQLAlchemy holds it at WARNING only until something lowers it
)
"""Loggers of the libraries underneath that write requests or statements with their data: a log level for
our own messages (DEBUG to follow a sign-in, say) must not turn them on. asyncpg logs no statement."""


def configure(settings: Settings) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderers: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if settings.log_format == "json"
        else [
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)
        ]
    )
    structlog.configure(
        # Drop events below the level first, before any processor spends time on them (the access log).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
