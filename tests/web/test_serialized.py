"""Answers serialized once are the bytes the response model would have written."""

from datetime import UTC, datetime

from pydantic import BaseModel, JsonValue

from tenantry.web.serialized import serialized


class _Item(BaseModel):
    id: str
    when: datetime
    whole_second: datetime
    never: datetime | None
    names: list[str]
    document: dict[str, JsonValue]
    flag: bool


class _Page(BaseModel):
    items: list[_Item]
    next_cursor: str | None


def test_a_page_of_values_serializes_as_its_model_would() -> None:
    item = {
        "id": "6a0000000000000000000001",
        "when": datetime(2026, 12, 4, 15, 53, 39, 715_968, tzinfo=UTC),
        "whole_second": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "never": None,
        "names": ["admin", "member"],
        "document": {"a": [1, 2.5, 'é "quoted" \u2028', None, True], "nested": {}},
        "flag": False,
    }
    page = {"items": [item, {**item, "id": "6a0000000000000000000002"}], "next_cursor": None}
    answer = serialized(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.body == _Page.model_validate(page).model_dump_json().encode()
