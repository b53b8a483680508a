"""The one mapping of a database that is away to an HTTP answer: 503 with ``Retry-After``, as an
``HTTPException`` that each surface answers in its own error shape. A read whose connection broke under it
is tried once more on a new connection first. Text the database cannot store (a NUL character in a path or
query parameter on PostgreSQL) is the request's fault: 422, in the same way."""

import logging
from collections.abc import Awaitable, Callable

from fastapi import Response
from starlette.exceptions import HTTPException

from tenantry.db.errors import is_unavailable, lost_connection, unstorable_text

RETRY_AFTER_SECONDS = 5
log = logging.getLogger("tenantry.database")


class DatabaseUnavailable(HTTPException):
    def __init__(self) -> None:
        detail = "the database is unavailable; try again shortly"
        super().__init__(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class UnstorableText(HTTPException):
    def __init__(self) -> None:
        super().__init__(422, "a value holds a character that cannot be stored (a NUL character)")


async def with_database(attempt: Callable[[], Awaitable[Response]], *, read: bool) -> Response:
    """``attempt()``; a database that is away becomes ``DatabaseUnavailable`` (logged in one line, not as a
    traceback), after one more try when ``read`` and the connection broke mid-request."""
    try:
        return await attempt()
    except Exception as error:
        if unstorable_text(error):
            raise UnstorableText() from None
        if not is_unavailable(error):
            raise
        failure: Exception = error
    if read and lost_connection(failure):
        try:
            return await attempt()
        except Exception as error:
            if not is_unavailable(error):
                raise
            failure = error
    log.warning("database unavailable: %s: %s", type(failure).__name__, (str(failure).splitlines() or [""])[0][:200])
    raise DatabaseUnavailable() from None
