"""Password hashing: argon2id at the configured cost, off the event loop."""

import pytest

from tenantry.core.credentials.passwords import Passwords
from tenantry.core.credentials.policy import DEFAULT_POLICY
from tenantry.errors import InvalidInput
from tenantry.settings import Settings


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=1024))


async def test_hash_is_argon2id_with_the_configured_cost(passwords: Passwords) -> None:
    hashed = await passwords.hash("s3cret passphrase")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await passwords.verify(hashed, "s3cret passphrase")
    assert not await passwords.verify(hashed, "wrong")


async def test_missing_or_garbage_hashes_never_verify(passwords: Passwords) -> None:
    assert not await passwords.verify(None, "anything")
    assert not await passwords.verify("not-a-hash", "anything")


async def test_a_cost_change_asks_for_a_rehash(passwords: Passwords) -> None:
    stronger = Passwords(Settings(argon2_time_cost=2, argon2_memory_kib=2048))
    hashed = await passwords.hash("s3cret passphrase")
    assert stronger.needs_rehash(hashed)
    assert not passwords.needs_rehash(hashed)


def test_default_policy_follows_nist_length_rules() -> None:
    assert DEFAULT_POLICY.violations("q7w-zp4m") == []
    assert DEFAULT_POLICY.violations("q7w-zp4") == ["must be at least 8 characters (min_length)"]
    assert DEFAULT_POLICY.violations("xy" * 65) == ["must be at most 128 characters (max_length)"]
    with pytest.raises(InvalidInput) as raised:
        DEFAULT_POLICY.check("short", field="new_password")
    assert raised.value.errors[0].field == "new_password"
