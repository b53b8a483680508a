"""Cursors are opaque, round-trip, and garbage is a 422 naming the field."""

import pytest

from tenantry.api.pagination import decode_cursor, encode_cursor
from tenantry.db.ids import new_id
from tenantry.errors import InvalidInput


def test_cursor_round_trips() -> None:
    after = new_id()
    cursor = encode_cursor(after)
    assert cursor is not None
    assert after not in cursor
    assert decode_cursor(cursor) == after
    assert encode_cursor(None) is None
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["", "x", "!!!", "e30", "eyJhZnRlciI6IDF9", "eyJhZnRlciI6ICIuLiJ9"])
def test_garbage_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(cursor)
    assert raised.value.errors[0].field == "cursor"
