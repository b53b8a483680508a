"""Two organizations and an account of the first that the second tries to reach, through every surface.

``Attempt`` names one way of attaching an account: the surface's own request, made by an organization's
owner (or anyone given by ``headers``). Each answers as its vendor does; the trust tests compare what
changed, not the vendor's words.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from tenantry.core.actor import Actor
from tenantry.core.memberships import joining
from tenantry.core.users import repository as accounts
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant
from tests.mailbox import mailbox
from tests.scim.conftest import provisioning_key

__all__ = ["mailbox"]

SECRET_FIELDS = {"first_name": "Alice", "last_name": "Liddell", "locale": "tr-TR", "region": "TR"}
SECRET_ATTRIBUTES = {"employee_id": "E-4711", "salary_band": "B7", "ssn_last4": "9876"}
SECRET_VALUES = ["Alice", "Liddell", "tr-TR", "E-4711", "B7", "9876"]

Attach = Callable[[httpx.AsyncClient, Tenant, str, str, dict[str, str]], Awaitable[httpx.Response]]


def _telm(org: Tenant) -> str:
    return f"/compat/telm/api/auth/auth/{org.slug}"


def _telm_auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authentication": headers["Authorization"], "Content-type": "application/json"}


async def _native_members(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    return await c.post(org.path("/members"), json={"email": email}, headers=h)


async def _native_by_id(c: httpx.AsyncClient, org: Tenant, _: str, user_id: str, h: dict[str, str]) -> httpx.Response:
    return await c.post(org.path("/members"), json={"user_id": user_id}, headers=h)


async def _native_create(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    body = {"email": email, "first_name": "Pwned", "attributes": {"employee_id": "X"}}
    return await c.post(org.path("/users"), json=body, headers=h)


async def _scim(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    key = await provisioning_key(org)
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email, "name": {"givenName": "P"}}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/scim+json"}
    return await c.post(f"/scim/v2/{org.slug}/Users", json=body, headers=headers)


async def _akinon(c: httpx.AsyncClient, org: Tenant, _: str, user_id: str, h: dict[str, str]) -> httpx.Response:
    return await c.post(f"/compat/akinon/organizations/{org.id}/users", json={"user": user_id}, headers=h)


async def _telm_assign(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    return await c.put(f"{_telm(org)}/users/{email}/assign", json={"role": "user"}, headers=_telm_auth(h))


async def _telm_create(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    query = {"email": email, "first_name": "Pwned", "last_name": "X", "role": "user"}
    return await c.post(f"{_telm(org)}/users", params=query, headers=_telm_auth(h))


async def _eva(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    body = {"email": email, "name": "Pwned", "password": "Secret1", "company": "Evil"}
    return await c.post(f"/compat/eva/eva-user/org/{org.id}/users", json=body, headers=h)


async def _eva_bulk(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    content = f"email;name;company;role;password;environmentUuid;environmentName;bot\n{email};Pwned;;ADMIN;Secret1;;;\n"
    files = {"file": ("users.csv", content.encode(), "text/csv")}
    return await c.post(f"/compat/eva/eva-user/org/{org.id}/users/bulk-create", files=files, headers=h)


async def _saleschat(c: httpx.AsyncClient, org: Tenant, email: str, _: str, h: dict[str, str]) -> httpx.Response:
    body = {"email": email, "password": "long enough password", "first_name": "Pwned", "last_name": "X"}
    return await c.post(f"/compat/saleschat/v1/org/{org.id}/user", json=body, headers=h)


ATTACHES: dict[str, Attach] = {
    "native members by email": _native_members,
    "native members by id": _native_by_id,
    "native create": _native_create,
    "scim": _scim,
    "akinon": _akinon,
    "telm assign": _telm_assign,
    "telm create": _telm_create,
    "eva": _eva,
    "eva bulk import": _eva_bulk,
    "saleschat": _saleschat,
}
BY_EMAIL = [name for name in ATTACHES if name not in {"native members by id", "akinon"}]


@dataclass
class Victim:
    """An account of acme's, with what acme stores about it."""

    member: Member
    owner: Tenant

    @property
    def id(self) -> str:
        return self.member.id

    @property
    def email(self) -> str:
        return self.member.email


@pytest.fixture
async def alice(tenant: Tenant) -> Victim:
    member = await tenant.add_user("alice@example.com", **SECRET_FIELDS, attributes=SECRET_ATTRIBUTES)
    return Victim(member, tenant)


def reveals_nothing(text: str) -> bool:
    """True when no value the owning organization stored about the victim appears in ``text``."""
    return not any(value in text for value in SECRET_VALUES)


async def decline_invitation(runtime: Runtime, user_id: str, org: str) -> None:
    """The account's owner declines an organization's invitation (as on their "My account" page)."""
    async with runtime.database.transaction() as session:
        user = await accounts.get_live(session, user_id)
        assert user is not None
        await joining.answer(session, Actor(user_id=user_id), user, org, accept=False)
