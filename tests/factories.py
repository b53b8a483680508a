"""Builders for test data. Everything after the first platform admin is made through the HTTP API."""

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tenantry.core.actor import Actor
from tenantry.core.memberships import joining
from tenantry.core.users import repository as accounts
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.runtime import Runtime

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def token_for(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    return str((await login(client, email, password))["access_token"])


async def make_platform_admin(runtime: Runtime, email: str = "root@example.com") -> User:
    """The first platform admin, made the way `tenantry bootstrap` makes it."""
    async with runtime.database.transaction() as session:
        return await users.create_account(
            session,
            User(
                email=email,
                password_hash=await runtime.passwords.hash(PASSWORD),
                platform_admin=True,
                email_verified=True,
            ),
        )


async def prove_credentials(runtime: Runtime, user_id: str) -> None:
    """The account's password is its owner's, as if chosen through a mailed link (``User.credentials_proven``):
    accounts made here with a password by an organization are not, and accept invitations only by the link."""
    async with runtime.database.transaction() as session:
        user = await accounts.get_live(session, user_id)
        assert user is not None
        user.credentials_proven = True


async def accept_invitation(runtime: Runtime, user_id: str, org: str) -> None:
    """The account's owner, whose password is proven theirs, accepts an organization's invitation (as on their
    "My account" page)."""
    await prove_credentials(runtime, user_id)
    async with runtime.database.transaction() as session:
        user = await accounts.get_live(session, user_id)
        assert user is not None
        await joining.answer(session, Actor(user_id=user_id), user, org, accept=True)


@dataclass
class Member:
    id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class Tenant:
    """An organization with an owner who is not a platform admin."""

    id: str
    slug: str
    owner: Member
    client: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        return self.owner.auth

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/orgs/{self.slug}{suffix}"

    async def add_user(
        self,
        email: str | None = None,
        *,
        roles: list[str] | None = None,
        password: str | None = PASSWORD,
        **fields: Any,
    ) -> Member:
        """Create a user here (with a password, so they can sign in) and sign them in."""
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        body: dict[str, Any] = {"email": email, "first_name": "Test", "last_name": "User", **fields}
        if roles is not None:
            body["roles"] = roles
        if password is not None:
            body["password"] = password
        response = await self.client.post(self.path("/users"), json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        token = await token_for(self.client, email, password) if password is not None else ""
        return Member(id=response.json()["id"], email=email, token=token)


async def make_tenant(client: httpx.AsyncClient, root_token: str, slug: str | None = None) -> Tenant:
    slug = slug or f"org-{secrets.token_hex(4)}"
    response = await client.post("/api/v1/orgs", json={"name": slug.title(), "slug": slug}, headers=bearer(root_token))
    assert response.status_code == 201, response.text
    org_id = response.json()["id"]
    owner_email = f"owner-{slug}@example.com"
    created = await client.post(
        f"/api/v1/orgs/{slug}/users",
        json={"email": owner_email, "first_name": "Owner", "password": PASSWORD, "roles": ["owner"]},
        headers=bearer(root_token),
    )
    assert created.status_code == 201, created.text
    owner = Member(id=created.json()["id"], email=owner_email, token=await token_for(client, owner_email))
    return Tenant(id=org_id, slug=slug, owner=owner, client=client)
