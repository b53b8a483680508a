"""A telm client's whole story, mail through a real SMTP server: invited, activated, signed in, reset."""

import re
from email.message import EmailMessage

import httpx

from tenantry.mail.sinks import SmtpSink
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.conftest import settings_for
from tests.dialects.telm.conftest import TOKEN, Telm, authentication
from tests.mailbox import submit
from tests.smtp_server import Inbox, smtp_server

EMAIL = "dana@example.com"
FIRST_PASSWORD = "violet kettle on the stairs"
SECOND_PASSWORD = "seven quiet orange lanterns"


def _worker(runtime: Runtime, database_url: str, smtp_url: str) -> OutboxWorker:
    """The outbox worker as `tenantry worker` runs it, delivering over SMTP."""
    settings = settings_for(database_url, smtp_url=smtp_url, smtp_security="none")
    return OutboxWorker(Runtime(**{**runtime.__dict__, "settings": settings}), email_sink=SmtpSink(settings))


def _link(message: EmailMessage, page: str) -> str:
    text = next(part for part in message.iter_parts() if part.get_content_type() == "text/plain").get_content()
    found = re.search(rf"http://testserver/ui/{page}\?token=\S+", text)
    assert found is not None, text
    return found.group(0)


async def _deliver(worker: OutboxWorker, inbox: Inbox) -> EmailMessage:
    before = len(inbox.accepted)
    assert await worker.run_once() == 1
    [message] = inbox.accepted[before:]
    assert message["To"] == EMAIL
    return message


async def _set_password(client: httpx.AsyncClient, link: str, page: str, password: str) -> None:
    fields = {"token": link.split("token=")[1], "password": password, "password_repeat": password}
    done = await submit(client, link, f"/ui/{page}", fields)
    assert done.status_code == (303 if page == "activate" else 200), done.text  # activation signs the browser in


async def _sign_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(TOKEN, params={"grant_type": "password", "username": EMAIL, "password": password})


async def test_create_activate_sign_in_list_reset_sign_in_again(
    telm: Telm, runtime: Runtime, database_url: str
) -> None:
    client = telm.client
    with smtp_server() as (inbox, smtp_url):
        worker = _worker(runtime, database_url, smtp_url)

        created = await telm.create_user(EMAIL, role="admin", first_name="Dana")
        assert created.json() == {"message": "User was added successfully"}
        invitation = await _deliver(worker, inbox)
        assert invitation["Subject"] == "Acme invited you: set your password"
        await _set_password(client, _link(invitation, "activate"), "activate", FIRST_PASSWORD)

        signed_in = await _sign_in(client, FIRST_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        listed = await client.get(telm.path("/users"), headers=authentication(signed_in.json()["access_token"]))
        assert listed.status_code == 200, listed.text
        assert {"email": EMAIL, "role": "admin"}.items() <= next(
            user for user in listed.json() if user["email"] == EMAIL
        ).items()

        reset = await client.delete(telm.path(f"/user/{EMAIL.upper()}/password"), headers=telm.auth)
        assert reset.status_code == 200, reset.text
        reset_mail = await _deliver(worker, inbox)
        assert reset_mail["Subject"] == "Reset your Acme password"
        await _set_password(client, _link(reset_mail, "reset-password"), "reset-password", SECOND_PASSWORD)

    assert (await _sign_in(client, FIRST_PASSWORD)).status_code == 401
    again = await _sign_in(client, SECOND_PASSWORD)
    assert again.status_code == 200, again.text
    user = await client.get(telm.path(f"/users/{EMAIL}"), headers=authentication(again.json()["access_token"]))
    assert (user.status_code, user.json()["first_name"]) == (200, "Dana")
