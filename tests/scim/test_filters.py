"""Filters, sorting and paging run in the database; no input gives a 500."""

import string
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scim.conftest import ENTERPRISE, GROUP, Scim

OTHERS = {"owner-acme@example.com", "root@example.com"}  # the organization's owner and its creator


@pytest.fixture
async def people(scim: Scim) -> dict[str, str]:
    """Three provisioned users besides the organization's owner and creator."""
    made = {}
    for name, family, title, department, active in [
        ("ada@example.com", "Lovelace", "Engineer", "R&D", True),
        ("grace@example.com", "Hopper", "Admiral", "Navy", False),
        ("alan@example.org", "Turing", None, "R&D", True),
    ]:
        attributes = {"name": {"givenName": name.split("@")[0].title(), "familyName": family}, "active": active}
        attributes["emails"] = [{"value": name, "type": "work", "primary": True}]
        if title:
            attributes["title"] = title
        attributes["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]
        attributes[ENTERPRISE] = {"department": department}
        made[name] = (await scim.create_user(name, externalId=f"ext-{family}", **attributes))["id"]
    return made


async def _names(scim: Scim, query: str) -> list[str]:
    response = await scim.get(f"/Users?{query}")
    assert response.status_code == 200, response.text
    return [item["userName"] for item in response.json()["Resources"]]


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ('userName eq "ADA@example.com"', {"ada@example.com"}),
        ('userName ew ".org"', {"alan@example.org"}),
        ('userName sw "a" and not (userName co "alan")', {"ada@example.com"}),
        ('name.familyName co "o" or title eq "Admiral"', {"ada@example.com", "grace@example.com"}),
        ("title pr", {"ada@example.com", "grace@example.com"}),
        ('title ne "Engineer"', {"grace@example.com", "alan@example.org", *OTHERS}),
        ('externalId eq "ext-Turing"', {"alan@example.org"}),
        ('externalId eq "EXT-TURING"', set()),
        ("active eq false", {"grace@example.com"}),
        ('emails[type eq "work" and value co "example.org"]', {"alan@example.org"}),
        ('emails.value sw "grace"', {"grace@example.com"}),
        (f'{ENTERPRISE}:department eq "r&d"', {"ada@example.com", "alan@example.org"}),
        ('name.familyName gt "Lovelace"', {"alan@example.org"}),
        (
            'meta.created gt "2000-01-01T00:00:00Z"',
            {"ada@example.com", "grace@example.com", "alan@example.org", *OTHERS},
        ),
        ('(title eq "Engineer" or title eq "Admiral") and active eq true', {"ada@example.com"}),
    ],
)
async def test_filters_select_in_the_database(scim: Scim, filter_: str, expected: set[str]) -> None:
    response = await scim.get("/Users", params={"filter": filter_})
    assert response.status_code == 200, response.text
    assert {item["userName"] for item in response.json()["Resources"]} == expected


async def test_a_date_time_without_a_zone_is_read_as_utc(scim: Scim) -> None:
    """RFC 7643 section 2.3.5: an xsd:dateTime may omit its zone (and a bare date its time)."""
    created = await scim.create_user("ada@example.com")
    group = await scim.post("/Groups", {"schemas": [GROUP], "displayName": "Engineers"})
    assert group.status_code == 201, group.text
    at = datetime.fromisoformat(created["meta"]["created"]).astimezone(UTC).replace(tzinfo=None)
    before, after = (at - timedelta(minutes=30)).isoformat(), (at + timedelta(minutes=30)).isoformat()
    for path, key in (("/Users", "userName"), ("/Groups", "displayName")):
        for filter_, expected in (
            (f'meta.created gt "{before}"', True),
            (f'meta.lastModified gt "{after}"', False),
            (f'meta.lastModified lt "{after}"', True),
            ('meta.created gt "2000-01-01"', True),
            ('meta.created lt "2000-01-01T00:00:00"', False),
        ):
            response = await scim.get(path, params={"filter": filter_})
            assert response.status_code == 200, (path, filter_, response.text)
            found = {item[key] for item in response.json()["Resources"]}
            assert ({"ada@example.com", "Engineers"} & found != set()) is expected, (path, filter_, found)


@pytest.mark.usefixtures("people")
async def test_sorting_and_paging_are_stable(scim: Scim) -> None:
    by_family = await _names(scim, "sortBy=name.familyName&sortOrder=descending")
    assert by_family[2:] == ["alan@example.org", "ada@example.com", "grace@example.com"]  # missing names first
    pages = [await _names(scim, f"sortBy=userName&startIndex={start}&count=2") for start in (1, 3)]
    assert pages[0] + pages[1] == sorted(pages[0] + pages[1])
    response = (await scim.get("/Users?startIndex=2&count=1")).json()
    assert (response["totalResults"], response["startIndex"], response["itemsPerPage"]) == (5, 2, 1)
    assert (await scim.get("/Users?count=0")).json()["Resources"] == []
    assert (await scim.get("/Users?count=100000")).json()["itemsPerPage"] == 5


@pytest.mark.parametrize(
    "filter_",
    ['userName eq "a', 'password eq "x"', 'nosuch eq "x"', 'meta.created co "2"', "userName gt 5", "groups.display pr"],
)
async def test_bad_filters_are_invalid_filter_errors(scim: Scim, filter_: str) -> None:
    response = await scim.get("/Users", params={"filter": filter_})
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] in ("invalidFilter", "invalidValue")


_ATOMS = st.sampled_from(
    [
        "userName",
        "title",
        "emails",
        "emails.value",
        "emails.primary",
        "active",
        "name.givenName",
        "meta.created",
        "externalId",
        "groups",
        f"{ENTERPRISE}:manager.value",
        "id",
        "x",
        "(",
        ")",
        "[",
        "]",
        "and",
        "or",
        "not",
        "eq",
        "ne",
        "co",
        "sw",
        "ew",
        "gt",
        "ge",
        "lt",
        "le",
        "pr",
        "true",
        "false",
        "null",
        '"a"',
        '"\\u0000"',
        '"\\ud800"',
        "1",
        "-1.5e3",
        '"2020-01-01T00:00:00Z"',
        " ",
    ]
)
_FILTERS = st.one_of(
    st.lists(_ATOMS, max_size=12).map(" ".join),
    st.text(alphabet=string.printable + "\x00é", max_size=60),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filter_=_FILTERS)
async def test_no_filter_gives_a_server_error(scim: Scim, filter_: str) -> None:
    for path in ("/Users", "/Groups"):
        response = await scim.get(
            path, params={"filter": filter_, "sortBy": "title" if path == "/Users" else "displayName"}
        )
        assert response.status_code in (200, 400), (filter_, response.text)
        assert response.headers["content-type"].startswith("application/scim+json")


async def test_scim_user_name_and_emails_filters_find_any_spelling(scim: Scim) -> None:
    emails = [{"value": "Ärger@acme.test", "type": "work", "primary": True}]
    await scim.create_user("Ärger@acme.test", emails=emails)
    for query in ("userName eq", 'emails[type eq "work" and value eq', "emails.value eq"):
        for spelling in ("ärger@acme.test", "ÄRGER@ACME.TEST", unicodedata.normalize("NFD", "ärger@acme.test")):
            quoted = spelling.replace('"', '\\"')
            closing = "]" if "[" in query else ""
            response = await scim.get("/Users", params={"filter": f'{query} "{quoted}"{closing}'})
            assert response.status_code == 200, response.text
            assert [item["userName"] for item in response.json()["Resources"]] == ["Ärger@acme.test"], query
    response = await scim.get("/Users", params={"filter": 'userName ne "ärger@acme.test"'})
    assert "Ärger@acme.test" not in [item["userName"] for item in response.json()["Resources"]]


async def test_partial_user_name_and_emails_filters_fold_case_beyond_ascii(scim: Scim) -> None:
    """``co``/``sw``/``ew`` fold case as keys do, on both databases (SQLite's lower() folds ASCII only)."""
    emails = [{"value": "Ärger@bücher.test", "type": "work", "primary": True}]
    await scim.create_user("Ärger@bücher.test", emails=emails)
    for query in (
        'userName sw "är"',
        'userName co "RGER@BÜ"',
        'emails.value sw "ÄR"',
        'userName ew "xn--bcher-kva.test"',
    ):
        response = await scim.get("/Users", params={"filter": query})
        assert response.status_code == 200, response.text
        assert [item["userName"] for item in response.json()["Resources"]] == ["Ärger@bücher.test"], query
    response = await scim.get("/Users", params={"filter": 'userName sw "ärgern"'})
    assert response.json()["totalResults"] == 0
