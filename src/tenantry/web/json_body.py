"""One decoder for every JSON request body: strict UTF-8, a bounded nesting depth, and an error that names
the body and the position where reading stopped, never a 500 (Python's decoder recurses and would raise
``RecursionError`` on a few thousand ``[``).

Routes get it through ``JsonBodyRequest`` (FastAPI's body parsing calls ``request.json()``) and
``guard_body``; endpoints that read the body themselves call ``decode_json``.
"""

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from starlette.exceptions import HTTPException

from tenantry.errors import MalformedBody

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a body may have; no document Tenantry reads comes close."""

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[{]|[\]}]', re.DOTALL)
"""Strings (whole, so brackets inside them do not count; an unterminated one runs to the end) and brackets."""


def _too_deep_at(text: str) -> int | None:
    """The position of the first bracket nested deeper than ``MAX_DEPTH``, if any."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _TOKENS.finditer(text):
        first = token.group()[0]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif first in "]}":
            depth -= 1
    return None


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``; ``MalformedBody`` (invalid input, with the position) when it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedBody(f"is not UTF-8: invalid byte at position {error.start}") from None
    too_deep = _too_deep_at(text)
    if too_deep is not None:
        raise MalformedBody(f"nests deeper than {MAX_DEPTH} levels at position {too_deep}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno} (position {error.pos})"
        raise MalformedBody(f"is not valid JSON: {error.msg.lower()} at {where}") from None
    except (ValueError, RecursionError) as error:  # an integer of more than 4,300 digits, say
        raise MalformedBody(f"is not valid JSON: {error}") from None


class JsonBodyRequest(Request):
    """A request whose ``json()`` is ``decode_json``."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def guard_body(handler: Handler) -> Handler:
    """The route handler, reading JSON with ``decode_json``: its ``MalformedBody`` reaches the surface's error
    mapping as itself (FastAPI wraps any error raised while it reads the body in a bare 400)."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(JsonBodyRequest(request.scope, request.receive))
        except HTTPException as error:
            if isinstance(error.__cause__, MalformedBody):
                raise error.__cause__ from None
            raise

    return guarded
