"""Opaque keyset cursors and the page-size parameter shared by every list."""

import base64
import binascii
import json
from typing import Annotated

from fastapi import Query

from tenantry.db.ids import is_id
from tenantry.errors import FieldError, InvalidInput

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page (at most 200).")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page; omit for the first.")
]


def encode_cursor(after: str | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id a page continues after; 422 for a cursor this service did not issue."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        after = None
    if not isinstance(after, str) or not is_id(after):
        raise InvalidInput([FieldError("cursor", "is not a cursor this service issued")])
    return after
