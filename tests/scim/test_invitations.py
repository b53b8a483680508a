"""Users provisioned over SCIM without a password get an invitation when the org's scim_send_invitations is on."""

import httpx

from tests.factories import Tenant
from tests.mailbox import Mailbox, mailbox
from tests.scim.conftest import Scim

__all__ = ["mailbox"]


async def test_scim_provisioned_users_are_invited_only_when_the_org_says_so(
    scim: Scim, tenant: Tenant, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await scim.create_user("silent@example.com")
    assert [mail.to for mail in await mailbox.deliver()] == []

    turned_on = await client.patch(tenant.path(""), json={"scim_send_invitations": True}, headers=tenant.auth)
    assert turned_on.json()["settings"]["scim_send_invitations"] is True
    await scim.create_user("invited@example.com")
    await scim.create_user("hasPassword@example.com", password="a long enough password")
    mails = await mailbox.deliver()
    assert [mail.to for mail in mails] == ["invited@example.com"]
    assert "/ui/activate?token=" in mails[0].link


async def test_a_scim_invitation_speaks_the_users_preferred_language(
    scim: Scim, tenant: Tenant, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """A new account takes its language from preferredLanguage (RFC 7643 4.1.1, its first tag) or locale."""
    await client.patch(tenant.path(""), json={"scim_send_invitations": True}, headers=tenant.auth)
    french = await scim.create_user("fr@example.com", preferredLanguage="fr-CA, en;q=0.5")
    await scim.create_user("de@example.com", locale="de-AT")
    await scim.create_user("odd@example.com", preferredLanguage="*;q=0")
    mails = {mail.to: mail.subject for mail in await mailbox.deliver()}
    org = tenant.slug.title()
    assert mails == {
        "fr@example.com": f"{org} vous a invité\u00a0: choisissez votre mot de passe",
        "de@example.com": f"{org} hat Sie eingeladen: Legen Sie Ihr Passwort fest",
        "odd@example.com": f"{org} invited you: set your password",
    }
    api = await client.get(tenant.path(f"/users/{french['id']}"), headers=tenant.auth)
    assert api.json()["locale"] == "fr-CA"
    assert (await scim.get(f"/Users/{french['id']}")).json()["preferredLanguage"] == "fr-CA, en;q=0.5"
