"""Secrets at rest: sealed with TENANTRY_SECRET_KEY; a key is rotated by putting the new one first, then resealing."""

import asyncio

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from tenantry.cli import app as cli
from tenantry.core import secretbox
from tenantry.core.mfa.models import MfaFactor
from tenantry.runtime import Runtime
from tenantry.settings import Settings, get_settings
from tests.auth.conftest import MakeInstance
from tests.conftest import settings_for
from tests.factories import Tenant
from tests.mfa.conftest import TotpClock, answer, enrol, sign_in

OLD = "a test key that encrypts second factors at rest"
NEW = "the new key that replaces the old one in 2026"


def test_a_secret_opens_with_any_listed_key_and_is_resealed_with_the_first() -> None:
    old = Settings(secret_key=OLD)
    both = Settings(secret_key=f"{NEW},{OLD}")
    sealed = secretbox.seal(old, "JBSWY3DPEHPK3PXP")
    opened = secretbox.open_sealed(both, sealed)
    assert opened.plaintext == "JBSWY3DPEHPK3PXP"
    assert opened.resealed is not None
    assert secretbox.open_sealed(Settings(secret_key=NEW), opened.resealed).resealed is None
    with pytest.raises(RuntimeError, match="none of TENANTRY_SECRET_KEY"):
        secretbox.open_sealed(Settings(secret_key=NEW), sealed)


def test_short_keys_are_refused_and_no_key_means_no_enrolment() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(secret_key=f"{NEW},short")
    with pytest.raises(secretbox.NoSecretKey):
        secretbox.seal(Settings(secret_key=None), "secret")


async def test_without_a_secret_key_enrolment_is_a_clear_conflict(instance: MakeInstance, tenant: Tenant) -> None:
    client = await (await instance(secret_key=None)).client()
    response = await client.post("/api/v1/me/mfa/totp", headers=tenant.auth)
    assert response.status_code == 409
    assert "TENANTRY_SECRET_KEY" in response.json()["detail"]


async def test_rotation_keeps_sign_ins_working_and_reseal_moves_every_secret(
    client: httpx.AsyncClient,
    runtime: Runtime,
    database_url: str,
    instance: MakeInstance,
    tenant: Tenant,
    totp_clock: TotpClock,
) -> None:
    authenticator = await enrol(client, tenant.owner.token, totp_clock)
    rotated = await (await instance(secret_key=f"{NEW},{OLD}")).client()
    mfa_token = (await sign_in(rotated, tenant.owner.email)).json()["mfa_token"]
    assert (await answer(rotated, mfa_token, authenticator.code_at(totp_clock.now))).status_code == 200
    get_settings.cache_clear()
    env = {"TENANTRY_DATABASE_URL": database_url, "TENANTRY_SECRET_KEY": f"{NEW},{OLD}"}
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "reseal"], env=env)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    async with runtime.database.transaction(write=False) as session:
        sealed = (await session.scalars(select(MfaFactor.secret_sealed))).one()
    new_only = settings_for(database_url, secret_key=NEW)
    assert secretbox.open_sealed(new_only, sealed).plaintext == authenticator.secret
