"""Mail for tests: a sink that keeps what the outbox worker delivers, and helpers for the hosted pages' forms."""

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Mail:
    message_id: str
    to: str
    subject: str
    text: str
    html: str
    links: list[str]

    @property
    def link(self) -> str:
        return self.links[0]


@dataclass
class CollectingSink:
    sent: list[Mail] = field(default_factory=list)

    async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
        self.sent.append(
            Mail(message_id, payload["to"], payload["subject"], payload["text"], payload["html"], payload["links"])
        )


class Mailbox:
    """Runs the outbox worker on demand and keeps every email it delivers."""

    def __init__(self, runtime: Runtime) -> None:
        self.sink = CollectingSink()
        self.worker = OutboxWorker(runtime, email_sink=self.sink)

    async def deliver(self) -> list[Mail]:
        before = len(self.sink.sent)
        await self.worker.run_once()
        return self.sink.sent[before:]

    async def one_for(self, email: str) -> Mail:
        """Deliver what is due; exactly one new email must be for ``email``."""
        delivered = [mail for mail in await self.deliver() if mail.to == email]
        assert len(delivered) == 1, [mail.subject for mail in delivered]
        return delivered[0]


@pytest.fixture
def mailbox(runtime: Runtime) -> Mailbox:
    return Mailbox(runtime)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


async def submit(client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str]) -> httpx.Response:
    """Open ``page`` as a browser would, then post its form (CSRF token included) to ``action``."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={**fields, "csrf_token": csrf_of(opened.text)})
