"""Password hashing: argon2id at the configured cost, off the event loop."""

import asyncio
from pathlib import Path

import pytest

from tenantry.core.credentials import arenas
from tenantry.core.credentials import passwords as passwords_module
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


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not arenas.keep_hash_memory(), reason="glibc's allocator only")
async def test_hashing_memory_is_given_back_once_hashing_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords_module, "IDLE_SECONDS", 0.2)
    hashing = Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=16 * 1024, hash_concurrency=2))
    await asyncio.gather(*(hashing.hash(f"password {n}") for n in range(4)))
    held = _rss_mib()
    await asyncio.sleep(0.2 + 0.5)
    # Two threads each kept one hash's 16 MiB while hashes came; both are back once they stopped.
    assert held - _rss_mib() >= 24
    assert await hashing.verify(await hashing.hash("still works"), "still works")


def test_hashing_threads_default_to_the_cores_the_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinned to one core (taskset, a container's cpuset), one thread hashes: a second would only take turns."""
    monkeypatch.setattr(passwords_module.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=1024))._workers == 1
    monkeypatch.setattr(passwords_module.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=1024))._workers == 3
    configured = Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=1024, hash_concurrency=2))
    assert configured._workers == 2
