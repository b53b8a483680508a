"""Importing authenticator apps from another system: over the API (an administrator, for accounts the
organization may manage) and as the `totp_secret` column of the CSV import; the secret is stored sealed."""

import asyncio
import csv
import json
from pathlib import Path

import httpx
import pyotp
from sqlalchemy import select
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.core.audit.models import AuditEvent
from tenantry.core.mfa.models import MfaFactor
from tenantry.core.users.models import User
from tenantry.runtime import Runtime
from tenantry.settings import get_settings
from tests.factories import PASSWORD, Tenant, bearer
from tests.mfa.conftest import TotpClock, answer, sign_in

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _path(tenant: Tenant, user_id: str) -> str:
    return tenant.path(f"/users/{user_id}/mfa/totp")


async def _factor(runtime: Runtime, user_id: str) -> MfaFactor | None:
    async with runtime.database.transaction(write=False) as session:
        return (await session.scalars(select(MfaFactor).where(MfaFactor.user_id == user_id))).first()


async def test_an_admin_imports_a_members_app_and_its_codes_sign_in(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("migrated@example.com")
    imported = await client.put(_path(tenant, member.id), json={"secret": "jbsw y3dp ehpk 3pxp"}, headers=tenant.auth)
    assert imported.status_code == 204, imported.text
    replaced = await client.put(_path(tenant, member.id), json={"secret": SECRET}, headers=tenant.auth)
    assert replaced.status_code == 204
    factor = await _factor(runtime, member.id)
    assert factor is not None
    assert factor.confirmed_at is not None
    assert SECRET not in factor.secret_sealed  # sealed with TENANTRY_SECRET_KEY

    challenge = (await sign_in(client, member.email)).json()
    assert (challenge["error"], challenge["mfa_methods"]) == ("mfa_required", ["otp"])
    tokens = await answer(client, challenge["mfa_token"], pyotp.TOTP(SECRET).at(totp_clock.now))
    assert tokens.status_code == 200, tokens.text
    async with runtime.database.transaction(write=False) as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.enrolled")))
    assert [(event.org_id, event.details) for event in events] == [(tenant.id, {"method": "otp", "imported": True})] * 2


async def test_a_bad_secret_is_a_422_naming_the_field_and_only_managed_accounts_are_touched(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("plain@example.com")
    for bad in ("not base32 at all!", "JBSWY3DP"):  # not base32; too short (40 bits)
        refused = await client.put(_path(tenant, member.id), json={"secret": bad}, headers=tenant.auth)
        assert refused.status_code == 422, refused.text
        assert "secret" in refused.text
    own = await client.put(_path(tenant, tenant.owner.id), json={"secret": SECRET}, headers=member.auth)
    assert own.status_code == 403  # a member holds no users:set_password, and may not manage the owner
    admin = await tenant.add_user("admin@example.com", roles=["admin"])
    above = await client.put(_path(tenant, tenant.owner.id), json={"secret": SECRET}, headers=admin.auth)
    assert above.status_code == 403  # the owner holds rights the admin lacks
    assert await _factor(runtime, tenant.owner.id) is None
    assert (await client.put(_path(tenant, member.id), json={"secret": SECRET}, headers=bearer("x"))).status_code == 401


async def test_the_csv_import_takes_a_totp_secret_column(
    database_url: str, database: object, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    source = tmp_path / "users.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "password", "totp_secret"])
        writer.writerow(["with-app@example.com", PASSWORD, SECRET.lower()])
        writer.writerow(["bad-app@example.com", PASSWORD, "JBSWY3DP"])
        writer.writerow(["no-app@example.com", PASSWORD, ""])
    env = {
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_ARGON2_MEMORY_KIB": "1024",
        "TENANTRY_ARGON2_TIME_COST": "1",
        "TENANTRY_SECRET_KEY": runtime.settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
    }
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, app, ["users", "import", str(source), "--org", tenant.slug, "--json"], env=env
        )
    finally:
        get_settings.cache_clear()
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"]) == (2, 1), result.stderr
    report = _report(Path(summary["report"]))
    assert [(row["email"], row["reason"]) for row in report] == [
        ("bad-app@example.com", "totp_secret must be a base32 TOTP secret of at least 16 characters (80 bits)")
    ]
    async with runtime.database.transaction(write=False) as session:
        users = {user.email: user.id for user in await session.scalars(select(User))}
    with_app = await _factor(runtime, users["with-app@example.com"])
    assert with_app is not None
    assert with_app.confirmed_at is not None
    assert SECRET not in with_app.secret_sealed
    assert await _factor(runtime, users["no-app@example.com"]) is None
    assert "bad-app@example.com" not in users
