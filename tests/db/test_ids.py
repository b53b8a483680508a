"""Ids: 24 lowercase hex characters, time-ordered, valid MongoDB ObjectIds."""

import re
import time

from tenantry.db.ids import is_id, new_id, new_ids


def test_ids_are_24_lowercase_hex_and_start_with_the_time() -> None:
    before = int(time.time())
    value = new_id()
    assert re.fullmatch(r"[0-9a-f]{24}", value)
    assert before <= int(value[:8], 16) <= int(time.time())
    assert is_id(value)
    assert not is_id(value.upper())


def test_ids_are_unique_and_ordered_across_seconds() -> None:
    values = {new_id() for _ in range(10_000)}
    assert len(values) == 10_000
    assert new_id()[:8] >= min(values)[:8]


def test_ids_made_in_bulk_have_the_same_shape_and_are_unique() -> None:
    before = int(time.time())
    values = new_ids(10_000)
    assert len(set(values)) == 10_000
    assert all(is_id(value) and before <= int(value[:8], 16) <= int(time.time()) for value in values)
