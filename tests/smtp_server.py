"""A real SMTP server for tests (aiosmtpd, in its own thread), keeping every message it accepts."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.live_server import free_port


@dataclass
class Inbox:
    """What the server accepted; ``hang_first`` makes it swallow the first DATA without ever answering;
    ``reply_after`` makes it answer MAIL, RCPT and DATA that many seconds late (slow, but each within a timeout)."""

    accepted: list[EmailMessage] = field(default_factory=list)
    refuse_recipients: bool = False
    hang_first: bool = False
    first_data: threading.Event = field(default_factory=threading.Event)
    reply_after: float = 0.0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        await asyncio.sleep(self.reply_after)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        await asyncio.sleep(self.reply_after)
        if self.refuse_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.reply_after)
        if self.hang_first and not self.first_data.is_set():
            self.first_data.set()
            await asyncio.sleep(3600)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.accepted.append(parsed)
        return "250 OK"

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.accepted:
            counts[str(message["Message-ID"])] = counts.get(str(message["Message-ID"]), 0) + 1
        return counts


@contextmanager
def smtp_server(inbox: Inbox | None = None, *, login: tuple[str, str] | None = None) -> Iterator[tuple[Inbox, str]]:
    """Serve ``inbox`` on a free port; yields it and the ``TENANTRY_SMTP_URL`` that reaches it."""
    inbox = inbox or Inbox()
    options: dict[str, Any] = {}
    if login is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok)

        options = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
