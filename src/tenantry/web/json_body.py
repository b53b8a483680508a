"""One decoder for every JSON request body: strict UTF-8, a bounded nesting depth, and an error that names
the body and the position where reading stopped, never a 500 (Python's decoder recurses and would raise
``RecursionError`` on a few thousand ``[``). Form-encoded bodies are read as strictly: UTF-8, raw or
percent-escaped (Starlette would read raw bytes as Latin-1, so ``josé`` sent unescaped became ``josÃ©``, and
would put U+FFFD in place of escapes that are not UTF-8).

Routes get both through ``JsonBodyRequest`` (FastAPI's body parsing calls ``request.json()`` and
``request.form()``) and ``guard_body``; endpoints that read the body themselves call ``decode_json``.
"""

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from tenantry.errors import MalformedBody
from tenantry.web.forms import media_type

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


def _not_utf8(error: UnicodeDecodeError, part: str = "body") -> MalformedBody:
    return MalformedBody(f"is not UTF-8: invalid byte at position {error.start}", part)


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``; ``MalformedBody`` (invalid input, with the position) when it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_utf8(error) from None
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


def _unescaped(text: str, position: int, part: str) -> str:
    try:
        return unquote_to_bytes(text.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody(f"is not UTF-8: the percent-escaped bytes at position {position} are not", part) from None


def _fields(data: bytes, part: str, max_fields: int | float) -> list[tuple[str, str | UploadFile]]:
    """The ``name=value`` pairs of a form-encoded body or a query string, read as UTF-8, raw or percent-escaped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_utf8(error, part) from None
    fields: list[tuple[str, str | UploadFile]] = []
    position = 0
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields.append((_unescaped(name, position, part), _unescaped(value, position + len(name) + 1, part)))
            if len(fields) > max_fields:
                raise MalformedBody(f"has more than {max_fields} fields", part)
        position += len(pair) + 1
    return fields


def decode_form(body: bytes, max_fields: int | float = 1000) -> FormData:
    """The fields of a form-encoded (``application/x-www-form-urlencoded``) body, read as UTF-8 (raw or
    percent-escaped bytes alike); ``MalformedBody`` with the position when it is not UTF-8."""
    return FormData(_fields(body, "body", max_fields))


def check_query(query_string: bytes) -> None:
    """``MalformedBody`` (of the query) with the position when the query string is not UTF-8: Starlette would
    read it with U+FFFD in place of the bytes, and telm's create and update take their fields there."""
    _fields(query_string, "query", float("inf"))


class JsonBodyRequest(Request):
    """A request whose ``json()`` is ``decode_json`` and whose form-encoded ``form()`` is ``decode_form``."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json

    async def _get_form(
        self, *, max_files: int | float = 1000, max_fields: int | float = 1000, max_part_size: int = 1024 * 1024
    ) -> FormData:
        if self._form is None and media_type(self) == "application/x-www-form-urlencoded":
            self._form = decode_form(await self.body(), max_fields)
        return await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def guard_body(handler: Handler) -> Handler:
    """The route handler, once the query string is UTF-8, reading JSON with ``decode_json`` and forms with
    ``decode_form``: their ``MalformedBody`` reaches the surface's error mapping as itself (FastAPI wraps any
    error raised while it reads the body in a bare 400)."""

    async def guarded(request: Request) -> Response:
        check_query(request.scope.get("query_string", b""))
        try:
            return await handler(JsonBodyRequest(request.scope, request.receive))
        except HTTPException as error:
            if isinstance(error.__cause__, MalformedBody):
                raise error.__cause__ from None
            raise

    return guarded
