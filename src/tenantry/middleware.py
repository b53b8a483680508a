"""Request context: a request id (taken from ``x-request-id`` when sane), echoed back, and an access log."""

import random
import re
from urllib.parse import parse_qs

import structlog
from starlette.types import Receive, Scope, Send

from tenantry import i18n
from tenantry.db import ids
from tenantry.requestctx import request_id
from tenantry.urls import split_url
from tenantry.web.asgi import Answer, HttpMiddleware

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_PAGES = ("/ui", "/oidc", "/console")
"""Paths whose answers speak the browser's language; the API and SCIM always answer in English."""


def _language_choice(scope: Scope) -> i18n.Choice:
    """What the request itself says about its language: ``Accept-Language``, and OpenID ``ui_locales`` on the
    authorization request or on the sign-in page that continues it."""
    headers = dict(scope["headers"])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")[:8000])
    ui_locales = (query.get("ui_locales") or [None])[0]
    if ui_locales is None and (continued := (query.get("continue") or [None])[0]):
        parts = split_url(continued)
        found = parse_qs(parts.query).get("ui_locales", []) if parts else []
        ui_locales = found[0] if found else None
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return i18n.Choice(ui_locales=ui_locales, accept_language=accept or None)


access_log = structlog.get_logger("tenantry.access")


def _new_request_id() -> str:
    """A request id of a stored id's shape (seconds, then 8 random bytes) from the cheap generator: it names a
    request in logs and traces and guards nothing, where ``db.ids.new_id`` draws from the OS for each call."""
    return f"{ids.stamp()}{random.getrandbits(64):016x}"


class RequestContextMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = given if _SANE_ID.fullmatch(given) else _new_request_id()
        token = request_id.set(current)
        language = i18n.begin(_language_choice(scope) if scope["path"].startswith(_PAGES) else None)
        answer = Answer()
        try:
            await self.app(scope, receive, answer.watching(send, [(b"x-request-id", current.encode())]))
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],  # never the query string: it may carry secrets
                status=answer.status,
                ms=round(answer.seconds * 1000, 1),
            )
            request_id.reset(token)
            i18n.end(language)
