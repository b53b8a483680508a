"""eva's bulk-create: every documented rule, one CSV row per violation, and the upload's limits."""

import httpx
import pytest

from tenantry.core.imports.eva import PASSWORD_RULE
from tenantry.runtime import Runtime
from tests.dialects.eva.conftest import Eva
from tests.factories import Tenant

HEADER = "email;name;company;role;password;environmentUuid;environmentName;bot"

# (row, the error it must get, or None when the row creates a user)
ROWS: list[tuple[str, tuple[str, str] | None]] = [
    ("ok-admin@example.com;Ok Admin;Acme;ADMIN;Secret1;;;", None),
    ("ok-sup@example.com;Ok Sup;;SUPERVISOR;Secret1;env-1;Production;", None),
    ("ok-editor@example.com;Ok Editor;;EDITOR;Secret1;env-1;Production;bot-1", None),
    ("ok-viewer@example.com;Ok Viewer;;viewer;Secret1;env-2;Staging;bot-2b", None),
    (
        "taken@example.com;Taken;;VIEWER;Secret1;env-1;Production;bot-1",
        ("taken@example.com", "a user with this email already exists in the organization"),
    ),
    # An account of another organization is invited, and reads as created: no one learns it exists.
    ("elsewhere@example.com;Elsewhere;;ADMIN;Secret1;;;", None),
    (
        "ok-editor@example.com;Again;;VIEWER;Secret1;env-1;Production;bot-2",
        ("ok-editor@example.com", "a user may only have one role: the email is on line 4 already"),
    ),
    (
        "norole@example.com;No Role;;;Secret1;;;",
        ("norole@example.com", "role must be one of ADMIN, SUPERVISOR, EDITOR, VIEWER"),
    ),
    (
        "badrole@example.com;Bad Role;;OWNER;Secret1;;;",
        ("badrole@example.com", "role must be one of ADMIN, SUPERVISOR, EDITOR, VIEWER"),
    ),
    ("short@example.com;Short;;ADMIN;Ab1;;;", ("short@example.com", PASSWORD_RULE)),
    ("noupper@example.com;No Upper;;ADMIN;secret1;;;", ("noupper@example.com", PASSWORD_RULE)),
    ("nolower@example.com;No Lower;;ADMIN;SECRET1;;;", ("nolower@example.com", PASSWORD_RULE)),
    ("nodigit@example.com;No Digit;;ADMIN;Secrets;;;", ("nodigit@example.com", PASSWORD_RULE)),
    (
        "editor-noenv@example.com;E;;EDITOR;Secret1;;;",
        ("editor-noenv@example.com", "EDITOR requires environmentUuid, environmentName and bot"),
    ),
    (
        "viewer-nobot@example.com;V;;VIEWER;Secret1;env-1;Production;",
        ("viewer-nobot@example.com", "VIEWER requires environmentUuid, environmentName and bot"),
    ),
    (
        "sup-noenv@example.com;S;;SUPERVISOR;Secret1;;;",
        ("sup-noenv@example.com", "SUPERVISOR requires environmentUuid and environmentName"),
    ),
    (
        "sup-noname@example.com;S;;SUPERVISOR;Secret1;env-1;;",
        ("sup-noname@example.com", "SUPERVISOR requires environmentUuid and environmentName"),
    ),
    (
        "sup-bot@example.com;S;;SUPERVISOR;Secret1;env-1;Production;bot-1",
        ("sup-bot@example.com", "SUPERVISOR is granted an environment, not a bot: leave bot empty"),
    ),
    (
        "ghost-env@example.com;G;;SUPERVISOR;Secret1;env-x;Nowhere;",
        ("ghost-env@example.com", "environment env-x does not exist"),
    ),
    (
        "off-env@example.com;O;;SUPERVISOR;Secret1;env-off;Retired;",
        ("off-env@example.com", "environment env-off is not active"),
    ),
    (
        "wrong-name@example.com;W;;SUPERVISOR;Secret1;env-1;Prod;",
        ("wrong-name@example.com", "environmentName does not match the name of environment env-1"),
    ),
    (
        "ghost-bot@example.com;G;;EDITOR;Secret1;env-1;Production;bot-x",
        ("ghost-bot@example.com", "bot bot-x does not exist"),
    ),
    (
        "off-bot@example.com;O;;EDITOR;Secret1;env-1;Production;bot-off",
        ("off-bot@example.com", "bot bot-off is not active"),
    ),
    (
        "unrelated@example.com;U;;VIEWER;Secret1;env-1;Production;bot-2b",
        ("unrelated@example.com", "bot bot-2b does not belong to environment env-1"),
    ),
    (
        "env-as-bot@example.com;U;;VIEWER;Secret1;env-1;Production;env-2",
        ("env-as-bot@example.com", "bot env-2 does not exist"),
    ),
    ("not-an-email;N;;ADMIN;Secret1;;;", ("not-an-email", "email is not a valid email address")),
    (";Nobody;;ADMIN;Secret1;;;", ("line 28", "email is required")),
    ("noname@example.com;;;ADMIN;Secret1;;;", ("noname@example.com", "name is required")),
    ("=1+2;Formula;;ADMIN;Secret1;;;", ("'=1+2", "email is not a valid email address")),
    ("columns@example.com;Too;Few", ("columns@example.com", "expected 8 columns separated by ';'")),
]


def _csv(*rows: str, header: bool = True) -> bytes:
    return ("\n".join(([HEADER] if header else []) + list(rows)) + "\n").encode()


async def _upload(client: httpx.AsyncClient, eva: Eva, content: bytes, field: str = "file") -> httpx.Response:
    return await client.post(
        eva.path("/users/bulk-create"), files={field: ("users.csv", content, "text/csv")}, headers=eva.tenant.auth
    )


async def test_every_rule_gives_exactly_its_error(client: httpx.AsyncClient, eva: Eva, other_tenant: Tenant) -> None:
    await eva.create_user(email="taken@example.com")
    await other_tenant.add_user("elsewhere@example.com")
    response = await _upload(client, eva, _csv(*(row for row, _ in ROWS)))
    assert response.status_code == 200, response.text
    expected = [{email: reason} for _, error in ROWS if error is not None for email, reason in [error]]
    assert response.json() == {"errors": expected}
    listed = await client.get(
        eva.path("/users"), params={"linesPerPage": 50, "searchTerms": "ok-"}, headers=eva.tenant.auth
    )
    by_email = {user["email"]: user for user in listed.json()["content"]}
    assert set(by_email) == {
        "ok-admin@example.com",
        "ok-sup@example.com",
        "ok-editor@example.com",
        "ok-viewer@example.com",
    }
    assert by_email["ok-admin@example.com"]["admin"] is True
    assert by_email["ok-admin@example.com"]["company"] == "Acme"
    assert by_email["ok-sup@example.com"]["environments"] == [
        {"role": "SUPERVISOR", "environment": {"uuid": "env-1", "name": "Production"}, "bots": []}
    ]
    assert by_email["ok-editor@example.com"]["environments"][0]["bots"] == [{"uuid": "bot-1", "name": "Bot-1"}]
    assert by_email["ok-viewer@example.com"]["environments"][0]["role"] == "VIEWER"
    signed_in = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "ok-sup@example.com", "password": "Secret1"}
    )
    assert signed_in.status_code == 200


async def test_no_user_created_is_422_with_the_same_body(client: httpx.AsyncClient, eva: Eva) -> None:
    response = await _upload(client, eva, _csv("bad;row"))
    assert response.status_code == 422
    assert response.json() == {"errors": [{"bad": "expected 8 columns separated by ';'"}]}
    empty = await _upload(client, eva, b"")
    assert (empty.status_code, empty.json()) == (422, {"errors": []})


async def test_a_file_without_header_row_starts_with_data(client: httpx.AsyncClient, eva: Eva) -> None:
    response = await _upload(client, eva, _csv("first@example.com;First;;ADMIN;Secret1;;;", header=False))
    assert (response.status_code, response.json()) == (200, {"errors": []})


async def test_many_batches_and_windows_line_endings(
    client: httpx.AsyncClient, eva: Eva, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "import_batch_size", 3)
    rows = [f"u{i}@example.com;User {i};;ADMIN;Secret1;;;" for i in range(10)]
    content = ("\r\n".join([HEADER, *rows, rows[0]]) + "\r\n").encode()
    response = await _upload(client, eva, content)
    assert response.json() == {
        "errors": [{"u0@example.com": "a user may only have one role: the email is on line 2 already"}]
    }
    listed = await client.get(eva.path("/users"), params={"searchTerms": "User"}, headers=eva.tenant.auth)
    assert listed.json()["totalElements"] == 10


async def test_too_many_rows_is_413_and_creates_nothing(
    client: httpx.AsyncClient, eva: Eva, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "import_upload_max_rows", 3)
    monkeypatch.setattr(runtime.settings, "import_batch_size", 2)
    rows = [f"u{i}@example.com;User {i};;ADMIN;Secret1;;;" for i in range(4)]
    response = await _upload(client, eva, _csv(*rows))
    assert response.status_code == 413
    assert response.json()["errorCode"] == "PAYLOAD_TOO_LARGE"
    assert "more than 3 rows" in response.json()["message"]
    listed = await client.get(eva.path("/users"), params={"searchTerms": "User"}, headers=eva.tenant.auth)
    assert listed.json()["totalElements"] == 0
    assert (await _upload(client, eva, _csv(*rows[:3]))).status_code == 200


async def test_too_large_a_file_is_413(
    client: httpx.AsyncClient, eva: Eva, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "import_upload_max_bytes", 100)
    response = await _upload(client, eva, _csv(*[f"u{i}@example.com;User;;ADMIN;Secret1;;;" for i in range(5)]))
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.json()["message"]


async def test_the_file_field_is_required(client: httpx.AsyncClient, eva: Eva) -> None:
    wrong_field = await _upload(client, eva, _csv(), field="upload")
    assert wrong_field.status_code == 422
    assert wrong_field.json()["details"][0]["fieldName"] == "file"
    not_multipart = await client.post(eva.path("/users/bulk-create"), content=_csv(), headers=eva.tenant.auth)
    assert not_multipart.status_code == 422


async def test_bytes_that_are_not_utf8_are_a_validation_error(client: httpx.AsyncClient, eva: Eva) -> None:
    response = await _upload(client, eva, b"\xff\xfe;\xff\n")
    assert response.status_code == 422
    assert response.json()["details"][0]["fieldName"] == "file"


async def test_viewers_may_not_bulk_create(client: httpx.AsyncClient, eva: Eva, tenant: Tenant) -> None:
    viewer = await tenant.add_user(roles=["viewer"])
    response = await client.post(
        eva.path("/users/bulk-create"), files={"file": ("u.csv", _csv(), "text/csv")}, headers=viewer.auth
    )
    assert response.status_code == 403
