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
