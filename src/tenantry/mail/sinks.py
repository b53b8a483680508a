"""Where emails go: an SMTP server (aiosmtplib), or, with none configured, the log (links included).

Each email carries its outbox id as its Message-ID, the idempotency key a receiving system can use to
drop a copy sent again after a worker died between sending and recording the delivery.
"""

import asyncio
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import structlog

from tenantry.settings import Settings

log = structlog.get_logger("tenantry.mail")


class DeliveryError(Exception):
    """Delivery failed; ``permanent`` when retrying cannot help (the server refused the address)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class EmailSink(Protocol):
    async def deliver(self, message_id: str, payload: dict[str, Any]) -> None: ...


def message_id_header(message_id: str, mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "tenantry"
    return f"<{message_id}@{domain}>"


def build_message(message_id: str, payload: dict[str, Any], mail_from: str) -> EmailMessage:
    message = EmailMessage()
    from_name = payload.get("from_name")
    message["From"] = formataddr((from_name, parseaddr(mail_from)[1])) if from_name else mail_from
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_header(message_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


class SmtpSink:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_url is not None
        url = urlsplit(settings.smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise ValueError("TENANTRY_SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
        security = "tls" if url.scheme == "smtps" else settings.smtp_security
        self._options: dict[str, Any] = {
            "hostname": url.hostname,
            "port": url.port or (465 if security == "tls" else 25),
            "username": unquote(url.username) if url.username else None,
            "password": unquote(url.password) if url.password else None,
            "use_tls": security == "tls",
            "start_tls": {"auto": None, "starttls": True}.get(security, False),
            "timeout": settings.smtp_timeout_seconds,
        }
        self._timeout = settings.smtp_timeout_seconds
        self._mail_from = settings.mail_from

    async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
        import aiosmtplib  # here: ~1 MiB resident that a process sending no email (log sink, apart worker) never needs

        message = build_message(message_id, payload, self._mail_from)
        try:
            # aiosmtplib's timeout bounds each reply; this bounds the conversation, which must end within the lease
            # (see Settings), or another worker sends the email again.
            await asyncio.wait_for(aiosmtplib.send(message, **self._options), self._timeout)
        except TimeoutError:
            raise DeliveryError(f"the SMTP conversation took longer than {self._timeout:g} s") from None
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            raise DeliveryError(f"recipient refused ({codes})", permanent=all(code >= 500 for code in codes)) from None
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as error:
            raise DeliveryError(f"SMTP {error.code}: {error.message}", permanent=error.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from None


class LogSink:
    """The default without SMTP: each email, with its links, is written to the log for a local user to follow."""

    async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
        log.warning(
            "email not sent: no TENANTRY_SMTP_URL, so here it is",
            message_id=message_id,
            to=payload["to"],
            subject=payload["subject"],
            links=payload.get("links", []),
            text=payload["text"],
        )


def sink_for(settings: Settings) -> EmailSink:
    return SmtpSink(settings) if settings.smtp_url else LogSink()
