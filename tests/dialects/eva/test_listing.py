"""eva's user list (a Spring page) and quick search."""

import math

import httpx
import pytest

from tests.dialects.eva.conftest import Eva


async def _users(eva: Eva, names: list[str]) -> None:
    for index, name in enumerate(names):
        await eva.create_user(name=name, email=f"user{index}@example.com")


async def _page(client: httpx.AsyncClient, eva: Eva, **params: object) -> dict[str, object]:
    response = await client.get(eva.path("/users"), params=params, headers=eva.tenant.auth)
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


@pytest.mark.parametrize(("page", "size"), [(0, 5), (1, 5), (2, 5), (3, 5), (0, 12), (1, 12), (0, 3)])
async def test_spring_page_arithmetic(client: httpx.AsyncClient, eva: Eva, page: int, size: int) -> None:
    await _users(eva, [f"Person {i:02d}" for i in range(10)])  # 12 members with the owner and the platform admin
    body = await _page(client, eva, page=page, linesPerPage=size, orderBy="name", direction="ASC")
    total, pages = 12, math.ceil(12 / size)
    expected_count = max(0, min(size, total - page * size))
    assert body["totalElements"] == total
    assert body["totalPages"] == pages
    assert body["numberOfElements"] == expected_count == len(body["content"])  # type: ignore[arg-type]
    assert (body["size"], body["number"]) == (size, page)
    assert body["first"] is (page == 0)
    assert body["last"] is (page >= pages - 1)
    assert body["empty"] is (expected_count == 0)
    assert body["sort"] == {"sorted": True, "unsorted": False, "empty": False}
    assert body["pageable"] == {
        "paged": True,
        "unpaged": False,
        "pageNumber": page,
        "pageSize": size,
        "offset": page * size,
        "sort": {"sorted": True, "unsorted": False, "empty": False},
    }


async def test_pages_cover_every_user_once_in_order(client: httpx.AsyncClient, eva: Eva) -> None:
    await _users(eva, ["Carol", "alice", "Bob", "dave", "Eve"])
    seen: list[str] = []
    for page in range(4):
        body = await _page(client, eva, page=page, linesPerPage=2, orderBy="name", direction="ASC")
        seen.extend(user["name"] for user in body["content"])  # type: ignore[attr-defined]
    # The platform admin who made the organization is a member too, with no name: first in order.
    assert seen == ["", "alice", "Bob", "Carol", "dave", "Eve", "Owner"]
    descending = await _page(client, eva, linesPerPage=3, orderBy="email", direction="DESC")
    assert [user["email"] for user in descending["content"]] == [  # type: ignore[attr-defined]
        "user4@example.com",
        "user3@example.com",
        "user2@example.com",
    ]


async def test_default_order_is_newest_first(client: httpx.AsyncClient, eva: Eva) -> None:
    await _users(eva, ["First", "Second"])
    body = await _page(client, eva)
    created = [user["createdAt"] for user in body["content"]]  # type: ignore[attr-defined]
    assert created == sorted(created, reverse=True)
    assert body["size"] == 5


async def test_search_terms_match_name_or_email(client: httpx.AsyncClient, eva: Eva) -> None:
    await _users(eva, ["Ada Lovelace", "Alan Turing", "Grace Hopper"])
    body = await _page(client, eva, searchTerms="a", orderBy="name", direction="ASC")
    assert body["totalElements"] == 5  # every example.com email has an "a" (the two admins' too)
    narrowed = await _page(client, eva, searchTerms="LOVE ada")
    assert [user["name"] for user in narrowed["content"]] == ["Ada Lovelace"]  # type: ignore[attr-defined]
    by_email = await _page(client, eva, searchTerms="user2@")
    assert [user["name"] for user in by_email["content"]] == ["Grace Hopper"]  # type: ignore[attr-defined]
    assert (await _page(client, eva, searchTerms="%"))["totalElements"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": -1}, "page"),
        ({"linesPerPage": 0}, "linesPerPage"),
        ({"orderBy": "password"}, "orderBy"),
        ({"direction": "UP"}, "direction"),
    ],
)
async def test_bad_paging_is_a_validation_error(
    client: httpx.AsyncClient, eva: Eva, params: dict[str, object], field: str
) -> None:
    response = await client.get(eva.path("/users"), params=params, headers=eva.tenant.auth)
    assert response.status_code == 422
    assert [detail["fieldName"] for detail in response.json()["details"]] == [field]


async def _quicksearch(client: httpx.AsyncClient, eva: Eva, name: str, **params: object) -> list[str]:
    response = await client.get(
        eva.path("/users/quicksearch"), params={"name": name, **params}, headers=eva.tenant.auth
    )
    assert response.status_code == 200, response.text
    names: list[str] = response.json()
    return names


async def test_quicksearch_matches_word_starts_left_to_right_alphabetically(
    client: httpx.AsyncClient, eva: Eva
) -> None:
    await _users(eva, ["Maria Silva", "mario rossi", "Ana Maria", "Rosa Mar", "Tamara Lee", "Silvia Marques"])
    assert await _quicksearch(client, eva, "mar") == [
        "Ana Maria",
        "Maria Silva",
        "mario rossi",
        "Rosa Mar",
        "Silvia Marques",
    ]
    assert await _quicksearch(client, eva, "MARIA S") == ["Maria Silva"]
    assert await _quicksearch(client, eva, "ria") == []  # inside a word: no match
    assert await _quicksearch(client, eva, "silv") == ["Maria Silva", "Silvia Marques"]


async def test_quicksearch_limit_defaults_to_six(client: httpx.AsyncClient, eva: Eva) -> None:
    await _users(eva, [f"Sam {letter}" for letter in "HGFEDCBA"])
    assert await _quicksearch(client, eva, "sam") == [f"Sam {letter}" for letter in "ABCDEF"]
    assert await _quicksearch(client, eva, "sam", limit=2) == ["Sam A", "Sam B"]
    assert await _quicksearch(client, eva, "sam", limit=50) == [f"Sam {letter}" for letter in "ABCDEFGH"]


async def test_quicksearch_names_repeat_once_and_need_a_term(client: httpx.AsyncClient, eva: Eva) -> None:
    await _users(eva, ["Jo Bloggs", "Jo Bloggs"])
    assert await _quicksearch(client, eva, "jo") == ["Jo Bloggs"]
    missing = await client.get(eva.path("/users/quicksearch"), headers=eva.tenant.auth)
    assert missing.status_code == 422
    assert missing.json()["details"][0] == {"fieldName": "name", "message": "Field required", "errorCode": "REQUIRED"}
    zero = await client.get(eva.path("/users/quicksearch"), params={"name": "jo", "limit": 0}, headers=eva.tenant.auth)
    assert zero.status_code == 422
