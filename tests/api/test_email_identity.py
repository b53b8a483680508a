"""One identity per email: every spelling of an address (letter case beyond ASCII, Unicode normalization,
fullwidth look-alikes, IDNA domains) is the same account for sign-in and creation (SCIM filters: tests/scim)."""

import unicodedata

import httpx
import pytest
from pydantic import TypeAdapter

from tenantry.core.fields import Email
from tenantry.core.users.emailkey import email_key
from tests.factories import PASSWORD, Tenant, login

EMAIL: TypeAdapter[str] = TypeAdapter(Email)
COMPOSED = unicodedata.normalize("NFC", "josé@acme.test")
DECOMPOSED = unicodedata.normalize("NFD", "josé@acme.test")
FULLWIDTH_ALICE = "\uff41lice@acme.test"

SPELLINGS = [
    ("Ärger@acme.test", ["ärger@acme.test", "ÄRGER@acme.test", "ärger@ACME.test"]),
    (COMPOSED, [DECOMPOSED, DECOMPOSED.upper()]),
    (DECOMPOSED, [COMPOSED]),
    ("u@bücher.test", ["u@xn--bcher-kva.test", "U@BÜCHER.test"]),
    ("u@xn--bcher-kva.test", ["u@bücher.test"]),
    ("alice@acme.test", [FULLWIDTH_ALICE, "ALICE@acme.test"]),
]


def test_the_key_folds_case_normalization_and_idna() -> None:
    assert email_key("ÄRGER@Acme.Test") == "ärger@acme.test"
    assert email_key(COMPOSED) == email_key(DECOMPOSED)
    assert email_key("u@bücher.test") == "u@xn--bcher-kva.test"
    assert email_key(FULLWIDTH_ALICE) == "alice@acme.test"
    assert email_key("Straße@x.test") == email_key("STRASSE@x.test")


@pytest.mark.parametrize(("created", "others"), SPELLINGS)
async def test_every_spelling_signs_in_and_none_creates_a_second_account(
    client: httpx.AsyncClient, tenant: Tenant, created: str, others: list[str]
) -> None:
    member = await tenant.add_user(created)
    for spelling in others:
        assert (await login(client, spelling))["access_token"]
        again = await client.post(
            tenant.path("/users"), json={"email": spelling, "password": PASSWORD}, headers=tenant.auth
        )
        assert again.status_code == 409, (spelling, again.text)
    shown = await client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)
    assert shown.json()["email"] == EMAIL.validate_python(created)  # as typed (as the validator writes it)
    assert shown.json()["email"].startswith(created[0])  # not folded


async def test_an_email_change_to_another_spelling_of_a_taken_address_is_409(tenant: Tenant) -> None:
    await tenant.add_user("ärger@acme.test")
    other = await tenant.add_user("other@acme.test")
    changed = await tenant.client.patch(
        tenant.path(f"/users/{other.id}"), json={"email": "ÄRGER@acme.test"}, headers=tenant.auth
    )
    assert changed.status_code == 409
